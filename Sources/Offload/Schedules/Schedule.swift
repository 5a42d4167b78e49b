/// One offloading scheme: it lays out the tasks of a whole run (prefill and
/// every decode step) on the timeline of a `ScheduleRun`.
public protocol Schedule: Sendable {
    var name: String { get }
    var summary: String { get }
    func run(_ run: inout ScheduleRun) throws
}

/// The schemes by name.
public enum ScheduleRegistry {
    public static let all: [any Schedule] = [
        FullGPUSchedule(), FlexGenSchedule(), FlexGenINT4Schedule(), FlexGenH2OSchedule(),
        UVMSchedule(), UVMH2OSchedule(), InfiniGenPaperSchedule(), InfiniGenArtifactSchedule(),
    ]

    public static var names: [String] { all.map(\.name) }

    public static func schedule(named name: String) throws -> any Schedule {
        guard let found = all.first(where: { $0.name == name }) else {
            throw OffloadError.unknownSchedule(name: name, available: names)
        }
        return found
    }
}
