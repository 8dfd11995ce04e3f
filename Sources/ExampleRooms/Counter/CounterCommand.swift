/// A counter client's frame: `{"type": "increment", "by"?}` or `{"type": "reset", "afterSeconds"}`.
package struct CounterCommand: Decodable {
    let type: String
    let by: Int64?
    let afterSeconds: Double?
}
