/// Which pre-tokenizer splits text into words before BPE.
public enum PreTokenizerKind: String, Sendable, CaseIterable {
    /// llama.cpp `smollm` / HF Sequence[Digits(individual_digits), ByteLevel]:
    /// every `\p{N}` scalar is its own word, the rest goes through the GPT-2 regex.
    case smollm
    /// Plain GPT-2 regex (digit runs stay together).
    case gpt2

    /// The GGUF `tokenizer.ggml.pre` names llama.cpp treats like these.
    public init?(ggufName: String) {
        switch ggufName {
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone": self = .smollm
        case "gpt-2", "gpt2", "mpt", "olmo", "jais": self = .gpt2
        default: return nil
        }
    }
}

/// Hand-written scanner equivalent to the GPT-2 pre-tokenizer regex
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// (leftmost alternative wins, as in a backtracking engine), optionally after
/// isolating each `\p{N}` scalar. A regex engine is avoided: NSRegularExpression
/// is slow and its `\p` classes differ in places.
struct PreTokenizer: Sendable {
    let kind: PreTokenizerKind

    /// Word boundaries (byte ranges into `bytes`) of the valid UTF-8 in `range`.
    func split(_ bytes: [UInt8], _ range: Range<Int>) -> [Range<Int>] {
        let scalars = ScalarRun(bytes, range)
        var words: [Range<Int>] = []
        words.reserveCapacity(scalars.count / 3 + 1)
        let n = scalars.count
        switch kind {
        case .gpt2:
            scanGPT2(scalars, 0, n, &words)
        case .smollm:
            // Digits split first; the regex then sees each digit-free stretch as its
            // own string, so `(?!\S)` treats a following digit as end of input.
            var start = 0
            for i in 0..<n where scalars.classes[i] == ScalarClass.number.rawValue {
                if start < i { scanGPT2(scalars, start, i, &words) }
                words.append(scalars.byteRange(i, i + 1))
                start = i + 1
            }
            if start < n { scanGPT2(scalars, start, n, &words) }
        }
        return words
    }

    private func scanGPT2(_ s: ScalarRun, _ lo: Int, _ hi: Int, _ words: inout [Range<Int>]) {
        let ws = ScalarClass.whitespace.rawValue
        var i = lo
        while i < hi {
            let c = s.values[i]
            if c == 0x27, i + 1 < hi, let len = Self.contractionLength(s, i + 1, hi) {
                words.append(s.byteRange(i, i + len))
                i += len
                continue
            }
            // ` ?X+` for X in letter / number / other: an optional single space
            // followed by a run of one class.
            var j = i
            if c == 0x20, i + 1 < hi, s.classes[i + 1] != ws { j = i + 1 }
            let k = s.classes[j]
            var e = j + 1
            if k != ws {
                while e < hi, s.classes[e] == k { e += 1 }
                words.append(s.byteRange(i, e))
                i = e
                continue
            }
            // Whitespace: `\s+(?!\S)` keeps the last space for the next word
            // unless the run reaches the end; `\s+` takes a lone one.
            while e < hi, s.classes[e] == ws { e += 1 }
            if e < hi, e - i >= 2 { e -= 1 }
            words.append(s.byteRange(i, e))
            i = e
        }
    }

    /// Length (including the apostrophe) of `'s 't 're 've 'm 'll 'd` starting before `p`.
    private static func contractionLength(_ s: ScalarRun, _ p: Int, _ hi: Int) -> Int? {
        switch s.values[p] {
        case 0x73, 0x74, 0x6D, 0x64: return 2  // s t m d
        default: break
        }
        guard p + 1 < hi else { return nil }
        switch (s.values[p], s.values[p + 1]) {
        case (0x72, 0x65), (0x76, 0x65), (0x6C, 0x6C): return 3  // re ve ll
        default: return nil
        }
    }
}

/// A stretch of UTF-8 decoded into scalar values, their classes and byte offsets.
struct ScalarRun {
    var values: [UInt32] = []
    var classes: [UInt8] = []
    /// Byte offset of each scalar, plus the end offset.
    var offsets: [Int] = []

    var count: Int { values.count }

    init(_ bytes: [UInt8], _ range: Range<Int>) {
        values.reserveCapacity(range.count)
        classes.reserveCapacity(range.count)
        offsets.reserveCapacity(range.count + 1)
        bytes.withUnsafeBufferPointer { b in
            var p = range.lowerBound
            let end = range.upperBound
            while p < end {
                offsets.append(p)
                let b0 = UInt32(b[p])
                var v: UInt32
                if b0 < 0x80 {
                    values.append(b0)
                    classes.append(ScalarClass.ascii[Int(b0)].rawValue)
                    p += 1
                    continue
                } else if b0 < 0xE0 {
                    v = (b0 & 0x1F) << 6 | (UInt32(b[p + 1]) & 0x3F)
                    p += 2
                } else if b0 < 0xF0 {
                    v = (b0 & 0x0F) << 12 | (UInt32(b[p + 1]) & 0x3F) << 6 | (UInt32(b[p + 2]) & 0x3F)
                    p += 3
                } else {
                    v = (b0 & 0x07) << 18 | (UInt32(b[p + 1]) & 0x3F) << 12
                        | (UInt32(b[p + 2]) & 0x3F) << 6 | (UInt32(b[p + 3]) & 0x3F)
                    p += 4
                }
                values.append(v)
                // Callers pass bytes of a Swift String, which is always valid UTF-8.
                classes.append(ScalarClass.classify(Unicode.Scalar(v) ?? "\u{FFFD}").rawValue)
            }
            offsets.append(end)
        }
    }

    @inline(__always)
    func byteRange(_ from: Int, _ to: Int) -> Range<Int> { offsets[from]..<offsets[to] }
}
