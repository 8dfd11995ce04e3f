import Foundation

/// A room id no other test in the process uses: `name-` and a random suffix.
func uniqueID(_ name: String) -> String {
    "\(name)-\(UUID().uuidString.prefix(8).lowercased())"
}
