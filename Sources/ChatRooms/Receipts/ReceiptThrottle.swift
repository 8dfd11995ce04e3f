/// When each user's last `receipt` frame went out, and the latest read waiting for its turn: a
/// user's receipts go out at most once per interval, the last one always (memory only: the
/// cursors themselves are stored).
struct ReceiptThrottle {
    let interval: Int64
    private var sentAt: [String: Int64] = [:]
    private var waiting: [String: Int64] = [:]

    init(intervalMilliseconds: Int) {
        interval = Int64(intervalMilliseconds)
    }

    /// `user` read up to `seq` at `now`: true to send it now; false when it waits (then
    /// ``nextDue`` says when).
    mutating func read(_ user: String, seq: Int64, now: Int64) -> Bool {
        if let last = sentAt[user], now - last < interval {
            waiting[user] = seq
            return false
        }
        sentAt[user] = now
        waiting[user] = nil
        return true
    }

    /// When the earliest waiting receipt may go out.
    var nextDue: Int64? {
        waiting.keys.compactMap { user in sentAt[user].map { $0 + interval } }.min()
    }

    /// The waiting receipts whose time has come, taken out (and recorded as sent at `now`).
    mutating func due(now: Int64) -> [(user: String, seq: Int64)] {
        let ready = waiting.filter { user, _ in (sentAt[user] ?? .min) + interval <= now }
        for user in ready.keys {
            waiting[user] = nil
            sentAt[user] = now
        }
        return ready.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
