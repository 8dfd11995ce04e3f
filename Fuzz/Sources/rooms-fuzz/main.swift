import CLibFuzzer
import Foundation
import RoomFuzzing

/// The target `FUZZ_TARGET` names.
nonisolated(unsafe) private var target = FuzzTarget.stomp

/// libFuzzer calls this once per input. A broken invariant aborts, which libFuzzer reports as a
/// crash and saves the input of. (Exported under libFuzzer's usual name too, for tools that look
/// for it.)
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = count == 0 || start == nil ? [] : Array(UnsafeBufferPointer(start: start, count: count))
    do {
        try target.run(bytes)
    } catch {
        FileHandle.standardError.write(Data("broken invariant: \(error)\n".utf8))
        abort()
    }
    return 0
}

// One binary serves every target, chosen by the environment, so that the instrumented build
// links once rather than once per target.
let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? ""
guard let named = FuzzTarget(rawValue: name) else {
    let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
    FileHandle.standardError.write(Data("set FUZZ_TARGET to one of: \(names)\n".utf8))
    exit(2)
}
target = named
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzzOneInput($0, $1) })
