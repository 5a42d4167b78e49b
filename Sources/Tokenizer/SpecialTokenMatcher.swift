/// Finds whole special tokens (e.g. `<|im_start|>`) in UTF-8 text.
///
/// Leftmost match wins, and at one position the longest token, like HF's
/// added-token matcher and llama.cpp's longest-first partitioning.
struct SpecialTokenMatcher: Sendable {
    /// Candidates by first byte, longest first.
    private var byFirstByte: [[(bytes: [UInt8], id: Int32)]] = Array(repeating: [], count: 256)
    private(set) var isEmpty = true

    init(_ tokens: [(text: String, id: Int32)]) {
        for t in tokens {
            let bytes = Array(t.text.utf8)
            guard let first = bytes.first else { continue }
            byFirstByte[Int(first)].append((bytes, t.id))
            isEmpty = false
        }
        for i in 0..<256 { byFirstByte[i].sort { $0.bytes.count > $1.bytes.count } }
    }

    /// Splits `bytes` into plain-text ranges and special token ids, in order.
    func partition(_ bytes: [UInt8]) -> [Piece] {
        var pieces: [Piece] = []
        var plainStart = 0
        var i = 0
        let n = bytes.count
        while i < n {
            let candidates = byFirstByte[Int(bytes[i])]
            var matched: (len: Int, id: Int32)?
            for c in candidates where c.bytes.count <= n - i {
                if bytes[i..<(i + c.bytes.count)].elementsEqual(c.bytes) {
                    matched = (c.bytes.count, c.id)
                    break
                }
            }
            if let m = matched {
                if plainStart < i { pieces.append(.text(plainStart..<i)) }
                pieces.append(.special(m.id))
                i += m.len
                plainStart = i
            } else {
                i += 1
            }
        }
        if plainStart < n { pieces.append(.text(plainStart..<n)) }
        return pieces
    }

    enum Piece: Equatable {
        case text(Range<Int>)
        case special(Int32)
    }
}
