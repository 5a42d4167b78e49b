import Foundation

/// The `infinigen` executable built beside the test bundle (`make test` builds it first),
/// for tests of the program as a user runs it.
public enum Infinigen {
    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    /// Its location; an error (a failure, not a skip) when it has not been built.
    public static func executable() throws -> URL {
        let bundle = URL(fileURLWithPath: CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? CommandLine.arguments[0])
        let exe = bundle.deletingLastPathComponent().appendingPathComponent("infinigen")
        guard FileManager.default.isExecutableFile(atPath: exe.path) else {
            throw Missing(description: "infinigen is not built at \(exe.path): build it first "
                          + "(`make test` does; or swift build -c release -Xswiftc -enable-testing --product infinigen)")
        }
        return exe
    }

    /// Runs it (or `executable`, another program) to completion; exit status and combined
    /// stdout/stderr.
    @discardableResult
    public static func run(_ args: [String], in dir: URL? = nil, environment: [String: String]? = nil,
                           executable: URL? = nil) throws -> (status: Int32, output: String) {
        let p = try process(args, in: dir, environment: environment, executable: executable)
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A configured, not yet started process (for tests that interrupt it).
    public static func process(_ args: [String], in dir: URL? = nil, environment: [String: String]? = nil,
                               executable: URL? = nil) throws -> Process {
        let p = Process()
        p.executableURL = try executable ?? Self.executable()
        p.arguments = args
        if let dir { p.currentDirectoryURL = dir }
        if let environment { p.environment = environment }
        return p
    }
}
