/// Entry point: validates the inputs, lets the schedule lay out its tasks and
/// summarises the timeline.
public enum Simulator {
    public static func run(schedule name: String, model: ModelShape, hardware: HardwareProfile,
                           workload: Workload, reads: TokenReadSource,
                           options: ScheduleOptions = ScheduleOptions()) throws -> SimulationResult {
        let schedule = try ScheduleRegistry.schedule(named: name)
        try workload.validate()
        try model.validate(file: model.name)
        try hardware.validate(file: hardware.name)
        try options.validate()
        try reads.validate(model: model, workload: workload)

        var run = ScheduleRun(model: model, hardware: hardware, workload: workload, reads: reads, options: options)
        try schedule.run(&run)
        return summarise(run, schedule: schedule)
    }

    static func summarise(_ run: ScheduleRun, schedule: any Schedule) -> SimulationResult {
        let t = run.timeline
        let total = run.stepEnds.last ?? t.makespan
        let prefill = run.stepEnds.first ?? total
        let steps = zip(run.stepEnds.dropFirst(), run.stepEnds).map { $0 - $1 }
        let breakdown = TimeBreakdown(computeSeconds: t.busyTime(.device),
                                      hostToDeviceSeconds: t.busyTime(.h2d),
                                      deviceToHostSeconds: t.busyTime(.d2h),
                                      stallSeconds: max(0, total - t.busyTime(.device)),
                                      cpuSeconds: t.busyTime(.host))
        return SimulationResult(modeled: true,
                                label: "modeled (\(schedule.name) on \(run.hardware.name), not measured)",
                                schedule: schedule.name, model: run.model.name, hardware: run.hardware.name,
                                workload: run.workload, tokenReads: run.readsLabel,
                                totalSeconds: total, prefillSeconds: prefill, decodeSeconds: total - prefill,
                                breakdown: breakdown,
                                bytesHostToDevice: run.bytesHostToDevice, bytesDeviceToHost: run.bytesDeviceToHost,
                                decodeStepSeconds: steps, timeline: t.entries, notes: run.notes)
    }
}
