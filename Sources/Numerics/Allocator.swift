import CBLAS

/// glibc serves blocks over 128 KiB with fresh mmap'd pages that the kernel zeroes on
/// every touch; the decode loop allocates such blocks (logits, activations) each step.
/// Raising the thresholds keeps freed blocks in the heap for reuse.
public enum Allocator {
    nonisolated(unsafe) private static var done = false

    public static func keepLargeBlocks() {
        guard !done else { return }
        done = true
        _ = mallopt(M_MMAP_THRESHOLD, 512 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 1 << 30)
    }
}
