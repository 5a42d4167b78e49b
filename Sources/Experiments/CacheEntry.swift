import Foundation
import Report

/// One cached result. On disk it is `{"checksum": sha256(payload), "payload": {...}}`,
/// where the checksum covers the payload's compact canonical JSON, so truncation or a
/// stray edit is detected on read.
public struct CacheEntry: Sendable, Equatable {
    public static let formatVersion = 1

    public var experiment: String
    public var key: String
    public var configuration: Configuration
    public var codeVersion: String
    public var inputDigests: [String: String]
    public var record: ResultRecord
    /// Time `run` took; informational (not part of the key).
    public var computeSeconds: Double

    public init(experiment: String, key: String, configuration: Configuration, codeVersion: String,
                inputDigests: [String: String], record: ResultRecord, computeSeconds: Double) {
        self.experiment = experiment
        self.key = key
        self.configuration = configuration
        self.codeVersion = codeVersion
        self.inputDigests = inputDigests
        self.record = record
        self.computeSeconds = computeSeconds
    }

    /// The cache key: SHA-256 of the canonical description of everything a result depends on.
    public static func key(experiment: String, configuration: Configuration, inputDigests: [String: String],
                           codeVersion: String) -> String {
        let identity: JSONValue = .object([
            "format": .int(formatVersion),
            "experiment": .string(experiment),
            "configuration": configuration.json,
            "inputs": .object(inputDigests.mapValues(JSONValue.string)),
            "codeVersion": .string(codeVersion),
        ])
        return SHA256.hex(identity.rendered(pretty: false))
    }

    /// The key recomputed from the entry's own fields (detects entries filed under a wrong name).
    public var recomputedKey: String {
        CacheEntry.key(experiment: experiment, configuration: configuration, inputDigests: inputDigests,
                       codeVersion: codeVersion)
    }

    var payload: JSONValue {
        .object([
            "format": .int(CacheEntry.formatVersion),
            "experiment": .string(experiment),
            "key": .string(key),
            "configuration": configuration.json,
            "codeVersion": .string(codeVersion),
            "inputs": .object(inputDigests.mapValues(JSONValue.string)),
            "record": record.json,
            "computeSeconds": .double(computeSeconds),
        ])
    }

    public func fileData() -> Data {
        let payload = self.payload
        let envelope: JSONValue = .object([
            "checksum": .string(SHA256.hex(payload.rendered(pretty: false))),
            "payload": payload,
        ])
        return envelope.data()
    }

    /// Parses and checks an entry file; throws a one-line reason when it is unusable.
    public static func decode(_ data: Data) throws -> CacheEntry {
        let envelope: JSONValue
        do { envelope = try JSONValue.parse(data) } catch { throw ExperimentError("unparsable (\(error))") }
        guard let checksum = envelope["checksum"]?.stringValue, let payload = envelope["payload"] else {
            throw ExperimentError("not a cache entry (no checksum/payload)")
        }
        guard SHA256.hex(payload.rendered(pretty: false)) == checksum else {
            throw ExperimentError("checksum mismatch (file damaged or edited)")
        }
        guard payload["format"]?.intValue == formatVersion else {
            throw ExperimentError("cache format \(payload["format"]?.rendered(pretty: false) ?? "?"), expected \(formatVersion)")
        }
        guard let experiment = payload["experiment"]?.stringValue, let key = payload["key"]?.stringValue,
              let configuration = payload["configuration"], let codeVersion = payload["codeVersion"]?.stringValue,
              let inputs = payload["inputs"]?.objectValue, let record = payload["record"] else {
            throw ExperimentError("cache entry lacks a field")
        }
        var digests: [String: String] = [:]
        for (name, value) in inputs {
            guard let digest = value.stringValue else { throw ExperimentError("input digest '\(name)' is not a string") }
            digests[name] = digest
        }
        return CacheEntry(experiment: experiment, key: key, configuration: try Configuration(json: configuration),
                          codeVersion: codeVersion, inputDigests: digests, record: try ResultRecord(json: record),
                          computeSeconds: payload["computeSeconds"]?.doubleValue ?? 0)
    }
}
