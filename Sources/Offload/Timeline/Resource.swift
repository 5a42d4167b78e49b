/// The four things that can be busy. Each runs one task at a time, in the
/// order tasks were issued to it.
public enum Resource: String, Codable, Sendable, CaseIterable {
    /// Device compute (kernels).
    case device
    /// Host-to-device link direction.
    case h2d
    /// Device-to-host link direction.
    case d2h
    /// Host CPU work the schedule waits for (gathers, staging copies, syncs).
    case host
}
