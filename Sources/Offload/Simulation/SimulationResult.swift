/// Where the time of a run went. Resources overlap, so the parts do not add
/// up to the total; `stall` is the time the device sat idle.
public struct TimeBreakdown: Codable, Sendable, Equatable {
    public var computeSeconds: Double
    public var hostToDeviceSeconds: Double
    public var deviceToHostSeconds: Double
    public var stallSeconds: Double
    public var cpuSeconds: Double
}

/// The outcome of one simulated run. Always a model, never a measurement:
/// `modeled` is true and the labels say what the numbers rest on.
public struct SimulationResult: Codable, Sendable, Equatable {
    public var modeled: Bool
    public var label: String
    public var schedule: String
    public var model: String
    public var hardware: String
    public var workload: Workload
    /// Which token reads fed the schedule (paper setting or recorded trace).
    public var tokenReads: String
    public var totalSeconds: Double
    public var prefillSeconds: Double
    public var decodeSeconds: Double
    public var breakdown: TimeBreakdown
    public var bytesHostToDevice: Double
    public var bytesDeviceToHost: Double
    public var decodeStepSeconds: [Double]
    /// Tasks of the recorded steps (see `ScheduleOptions.timelineSteps`).
    public var timeline: [TimelineEntry]
    public var notes: [String]
}
