/// The C allocator.
enum Allocator {
    /// Returns the free memory the C allocator holds to the system (glibc's `malloc_trim`;
    /// nothing elsewhere).
    static func releaseFreeMemory() {
        #if os(Linux)
        _ = mallocTrim(0)
        #endif
    }
}

#if os(Linux)
@_silgen_name("malloc_trim")
private func mallocTrim(_ pad: Int) -> Int32
#endif
