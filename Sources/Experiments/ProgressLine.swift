import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The progress line on stderr: `[fig14] config 3/24  elapsed 0:41  ETA 2:10`.
/// On a terminal the line is rewritten in place (\r); otherwise (CI logs, files) each
/// update is a plain line. Notes are printed on their own line without garbling it.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private let quiet: Bool
    private let interactive: Bool
    private let sink: @Sendable (String) -> Void
    private var lineOpen = false

    init(quiet: Bool, interactive: Bool = isatty(STDERR_FILENO) == 1,
         sink: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.quiet = quiet
        self.interactive = interactive
        self.sink = sink
    }

    func update(_ text: String) {
        guard !quiet else { return }
        lock.withLock {
            if interactive {
                sink("\r" + text + "\u{1B}[K")
                lineOpen = true
            } else {
                sink(text + "\n")
            }
        }
    }

    /// Ends the current line with a final text.
    func finish(_ text: String) {
        guard !quiet else { return }
        lock.withLock {
            sink((interactive ? "\r" : "") + text + (interactive ? "\u{1B}[K" : "") + "\n")
            lineOpen = false
        }
    }

    /// Warnings are shown even when quiet.
    func note(_ text: String, force: Bool = false) {
        guard !quiet || force else { return }
        lock.withLock {
            if lineOpen { sink("\r\u{1B}[K"); lineOpen = false }
            sink(text + "\n")
        }
    }

    static func line(experiment: String, position: Int, total: Int, elapsed: TimeInterval,
                     eta: TimeInterval?, cached: Bool = false) -> String {
        var s = "[\(experiment)] config \(position)/\(total)  elapsed \(clock(elapsed))  ETA \(eta.map(clock) ?? "--:--")"
        if cached { s += "  (cached)" }
        return s
    }

    /// 0:41, 12:03, 1:02:03
    static func clock(_ seconds: TimeInterval) -> String {
        let total = Int(max(0, seconds.rounded()))
        let h = total / 3600, m = (total % 3600) / 60, s = total % 60
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%d:%02d", m, s)
    }
}
