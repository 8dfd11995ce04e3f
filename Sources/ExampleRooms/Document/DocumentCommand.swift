/// What every frame a doc room takes carries: its `type` (`op` or `cursor`) and, for an `op`,
/// the `id` its errors answer to (read leniently: an `id` that is not a string is the op's own
/// error to report, and a cursor has none).
package struct DocumentCommand: Decodable {
    let type: String
    let id: String?

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decode(String.self, forKey: .type)
        id = try? container.decodeIfPresent(String.self, forKey: .id)
    }

    private enum CodingKeys: String, CodingKey {
        case type, id
    }
}
