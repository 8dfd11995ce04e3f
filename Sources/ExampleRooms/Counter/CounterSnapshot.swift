/// What a counter's snapshot holds: the count, as of change `seq`.
struct CounterSnapshot: Codable {
    let value: Int64
    let seq: Int64
}
