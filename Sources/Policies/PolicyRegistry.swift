import Foundation
import Model

/// Finds KV methods by name and builds them from "name:key=value,key=value" specs.
/// Adding a method: one file with the type, one line here.
public enum PolicyRegistry {
    nonisolated(unsafe) public static let methods: [any KVMethod.Type] = [
        FullMethod.self,
        FlexGenMethod.self,
        QuantMethod.self,
        H2OMethod.self,
        StreamingMethod.self,
        QuestMethod.self,
        OracleMethod.self,
        InfiniGenMethod.self,
    ]

    public static var names: [String] { methods.map { $0.name } }

    public static func method(named name: String) throws -> any KVMethod.Type {
        guard let m = methods.first(where: { $0.name == name }) else {
            throw PolicyError("unknown KV policy '\(name)' (known: \(names.joined(separator: ", ")))")
        }
        return m
    }

    /// Parses "h2o:heavy=0.1,recent=0.1" into a method type and checked values.
    public static func parse(_ spec: String) throws -> (type: any KVMethod.Type, values: ParameterValues) {
        let trimmed = spec.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ":", maxSplits: 1).map(String.init)
        guard let name = parts.first, !name.isEmpty else { throw PolicyError("empty policy spec") }
        let type = try method(named: name)
        let specs = type.parameters + [CommonParameters.spare]
        var values: [String: ParameterValue] = [:]
        for s in specs { values[s.name] = s.defaultValue }
        if parts.count == 2 && !parts[1].isEmpty {
            for item in parts[1].split(separator: ",") {
                let kv = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard kv.count == 2, !kv[0].isEmpty else {
                    throw PolicyError("\(name): expected key=value, got '\(item)'")
                }
                guard let s = specs.first(where: { $0.name == kv[0] }) else {
                    throw PolicyError("\(name) has no parameter '\(kv[0])' (parameters: \(specs.map(\.name).joined(separator: ", ")))")
                }
                values[s.name] = try s.parse(kv[1], method: name)
            }
        }
        return (type, ParameterValues(values))
    }

    /// Builds a method for `model` from a spec string.
    public static func make(_ spec: String, model: LlamaModel, context: MethodContext = MethodContext()) throws -> any KVMethod {
        let (type, values) = try parse(spec)
        return try type.init(model: model, parameters: values, context: context)
    }

    /// The spec with every parameter spelled out, in declaration order (a stable name for
    /// caches and tables).
    public static func canonical(_ spec: String) throws -> String {
        let (type, values) = try parse(spec)
        return type.name + ":" + values.canonical(order: type.parameters + [CommonParameters.spare])
    }
}
