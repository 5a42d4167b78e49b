/// Typed metadata accessors that throw an error naming the key when it is missing or of an
/// unexpected type, so model loading code can simply `try file.int("llama.block_count")`.
extension GGUFFile {
    public func value(_ key: String) throws -> GGUFValue {
        guard let value = metadata[key] else {
            throw GGUFError(.missingKey, "\(name): metadata key '\(key)' is missing")
        }
        return value
    }

    public func string(_ key: String) throws -> String {
        try typed(key, "a string") { $0.stringValue }
    }

    /// Any integer type, as long as the value fits in `Int`.
    public func int(_ key: String) throws -> Int {
        try typed(key, "an integer") { $0.intValue }
    }

    /// float32, float64, or an integer.
    public func float(_ key: String) throws -> Float {
        try typed(key, "a number") { $0.floatValue }
    }

    public func bool(_ key: String) throws -> Bool {
        try typed(key, "a bool") { $0.boolValue }
    }

    public func stringArray(_ key: String) throws -> [String] {
        try typedArray(key, "strings") { $0.stringValue }
    }

    public func intArray(_ key: String) throws -> [Int] {
        try typedArray(key, "integers") { $0.intValue }
    }

    public func floatArray(_ key: String) throws -> [Float] {
        try typedArray(key, "numbers") { $0.floatValue }
    }

    private func typed<T>(_ key: String, _ expected: String, _ convert: (GGUFValue) -> T?) throws -> T {
        let value = try value(key)
        guard let result = convert(value) else {
            throw GGUFError(.wrongType, "\(name): metadata key '\(key)' is \(value.typeDescription)\(value.intValue == nil && value.type == .uint64 ? " too large for Int" : ""), expected \(expected)")
        }
        return result
    }

    private func typedArray<T>(_ key: String, _ expected: String, _ convert: (GGUFValue) -> T?) throws -> [T] {
        let value = try value(key)
        guard case .array(_, let elements) = value else {
            throw GGUFError(.wrongType, "\(name): metadata key '\(key)' is \(value.typeDescription), expected an array of \(expected)")
        }
        var result: [T] = []
        result.reserveCapacity(elements.count)
        for (i, element) in elements.enumerated() {
            guard let converted = convert(element) else {
                throw GGUFError(.wrongType, "\(name): metadata key '\(key)' element \(i) is \(element.typeDescription), expected an array of \(expected)")
            }
            result.append(converted)
        }
        return result
    }
}
