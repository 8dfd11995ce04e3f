/// `{"type": "reset-scheduled", "at"}`: the counter will go back to 0 at `at` (ms since 1970).
struct ResetScheduledFrame: Encodable {
    let type = "reset-scheduled"
    let at: Int64
}
