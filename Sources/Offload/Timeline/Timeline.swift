/// Handle of an issued task, used to express dependencies.
public struct TaskID: Hashable, Sendable {
    let index: Int
}

/// One task as drawn: which step and layer it belongs to, where it ran, when.
public struct TimelineEntry: Codable, Sendable, Equatable {
    /// 0 is prefill, 1... are decode steps.
    public var step: Int
    /// Transformer layer, or -1 for work outside the layers (output head).
    public var layer: Int
    public var name: String
    public var resource: Resource
    public var start: Double
    public var end: Double
}

/// A discrete-event list scheduler. Tasks are issued in program order; a task
/// starts when its resource has finished everything issued to it before and
/// all its dependencies have ended: start = max(resource free, deps done).
/// Because dependencies can only name earlier tasks, times are final the
/// moment a task is issued.
public struct Timeline: Sendable {
    private var ends: [Double] = []
    private var free: [Resource: Double] = [:]
    public private(set) var busy: [Resource: Double] = [:]
    public private(set) var entries: [TimelineEntry] = []
    /// Steps whose tasks are kept in `entries` (nil keeps all).
    public var recordedSteps: Set<Int>?

    public init(recordedSteps: Set<Int>? = nil) {
        self.recordedSteps = recordedSteps
    }

    /// Issues a task. Durations must be finite and non-negative.
    @discardableResult
    public mutating func add(_ name: String, on resource: Resource, duration: Double,
                             after dependencies: [TaskID] = [], step: Int = 0, layer: Int = -1) -> TaskID {
        precondition(duration.isFinite && duration >= 0, "task \(name) has duration \(duration)")
        let ready = dependencies.reduce(free[resource, default: 0]) { max($0, ends[$1.index]) }
        let end = ready + duration
        free[resource] = end
        busy[resource, default: 0] += duration
        ends.append(end)
        if recordedSteps?.contains(step) ?? true {
            entries.append(TimelineEntry(step: step, layer: layer, name: name, resource: resource,
                                         start: ready, end: end))
        }
        return TaskID(index: ends.count - 1)
    }

    /// A point in time that occupies no resource: the moment all `dependencies`
    /// have ended (a join, or a synchronisation barrier).
    public mutating func join(_ dependencies: [TaskID]) -> TaskID {
        ends.append(dependencies.reduce(0) { max($0, ends[$1.index]) })
        return TaskID(index: ends.count - 1)
    }

    public func end(of task: TaskID) -> Double { ends[task.index] }

    /// When the last task ends.
    public var makespan: Double { ends.max() ?? 0 }

    public func busyTime(_ resource: Resource) -> Double { busy[resource, default: 0] }
}
