import Foundation

/// The CPU time and memory of a process, read from /proc (Linux).
struct ProcessSample: Sendable {
    /// User plus system CPU time, in seconds.
    let cpuSeconds: Double
    /// Resident set size now, in bytes.
    let rssBytes: Int
    /// Peak resident set size, in bytes.
    let peakRSSBytes: Int
    /// When the sample was taken.
    let at: ContinuousClock.Instant

    /// Reads process `pid`; nil if /proc does not have it.
    static func read(pid: Int32) -> ProcessSample? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        func kilobytes(_ key: String) -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }) else { return 0 }
            return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
        }
        return ProcessSample(
            cpuSeconds: (user + system) / ticks, rssBytes: kilobytes("VmRSS"), peakRSSBytes: kilobytes("VmHWM"),
            at: .now)
    }

    /// The CPU use between `earlier` and this sample, in percent of one core.
    func cpuPercent(since earlier: ProcessSample) -> Double {
        let wall = (at - earlier.at) / .seconds(1)
        return wall > 0 ? (cpuSeconds - earlier.cpuSeconds) / wall * 100 : 0
    }
}
