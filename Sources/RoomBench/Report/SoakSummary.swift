/// `rooms bench soak`: every sample, and whether the server's resources stayed flat.
public struct SoakSummary: Encodable, Sendable {
    /// One per interval, in order.
    public var samples: [SoakSample]
    /// Resident memory at the end over its value at the end of the first quarter of the run
    /// (after caches and buffers warmed), in percent; nil with fewer than two samples.
    public var rssGrowthPercent: Double?
    /// Open descriptors at the end minus at the end of the first quarter.
    public var descriptorGrowth: Int?
    /// Open room databases at the end minus at the end of the first quarter.
    public var openDatabaseGrowth: Int?

    init(samples: [SoakSample]) {
        self.samples = samples
        guard samples.count >= 2, let last = samples.last else { return }
        let reference = samples[max(0, samples.count / 4 - 1)]
        if let start = reference.rssBytes, let end = last.rssBytes, start > 0 {
            rssGrowthPercent = (Double(end) / Double(start) - 1) * 100
        }
        if let start = reference.openDescriptors, let end = last.openDescriptors { descriptorGrowth = end - start }
        if let start = reference.openDatabases, let end = last.openDatabases { openDatabaseGrowth = end - start }
    }
}
