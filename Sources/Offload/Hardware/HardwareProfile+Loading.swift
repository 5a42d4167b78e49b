import Foundation

extension HardwareProfile {
    /// Names of the profiles shipped with the module.
    public static var bundledNames: [String] { BundledData.names("hardware") }

    /// A shipped profile by name, e.g. `a6000-pcie3`.
    public static func load(named name: String) throws -> HardwareProfile {
        try load(from: BundledData.url("hardware", name: name))
    }

    /// A profile from any JSON file; validated before it is returned.
    public static func load(from url: URL) throws -> HardwareProfile {
        try decode(BundledData.read(url), file: url.lastPathComponent)
    }

    public static func decode(_ data: Data, file: String) throws -> HardwareProfile {
        let profile: HardwareProfile
        do {
            profile = try JSONDecoder().decode(HardwareProfile.self, from: data)
        } catch {
            let (field, reason) = DecodingDiagnosis.field(of: error)
            throw OffloadError.invalidProfile(file: file, field: field, reason: reason)
        }
        try profile.validate(file: file)
        return profile
    }

    /// Pretty, key-sorted JSON (stable diffs), written atomically.
    public func write(to url: URL) throws {
        try validate(file: url.lastPathComponent)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try encoder.encode(self) } catch {
            throw OffloadError.io(path: url.path, reason: "cannot encode profile (\(error))")
        }
        try AtomicFile.write(data + Data("\n".utf8), to: url)
    }
}
