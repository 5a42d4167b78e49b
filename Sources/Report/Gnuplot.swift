import Foundation

/// Runs gnuplot on a script written by GnuplotFigure.
public enum Gnuplot {
    /// The gnuplot on PATH (or $GNUPLOT if set), nil when not installed.
    public static func executable() -> URL? {
        if let explicit = ProcessInfo.processInfo.environment["GNUPLOT"], !explicit.isEmpty {
            return FileManager.default.isExecutableFile(atPath: explicit) ? URL(fileURLWithPath: explicit) : nil
        }
        return Executable.find("gnuplot")
    }

    public static var isAvailable: Bool { executable() != nil }

    /// Runs `gnuplot <script>` inside the script's directory (its paths are relative).
    /// Throws a one-line error carrying gnuplot's stderr when it fails.
    public static func render(script: URL) throws {
        guard let gnuplot = executable() else {
            throw ReportError("gnuplot not found on PATH: install it (apt-get install gnuplot) to render \(script.lastPathComponent)")
        }
        let process = Process()
        process.executableURL = gnuplot
        process.arguments = [script.lastPathComponent]
        process.currentDirectoryURL = script.deletingLastPathComponent()
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw ReportError("cannot start \(gnuplot.path): \(error.localizedDescription)")
        }
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: stderr, as: UTF8.self)
                .split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && $0 != "^" }
                .joined(separator: " | ")
            throw ReportError("gnuplot failed on \(script.lastPathComponent) (exit \(process.terminationStatus)): \(message)")
        }
    }
}
