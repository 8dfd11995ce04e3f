/// `GET /rooms/{kind}/{id}/versions`: the current version and the stored snapshots, newest first.
struct VersionList: Encodable {
    let version: Int64
    let snapshots: [DocumentSnapshot]
}
