// The README's Swift example: `swift run rooms-hello [ROOM-WEBSOCKET-URL]` against `rooms serve`.
import RoomsClient

let url = CommandLine.arguments.dropFirst().first ?? "ws://127.0.0.1:8080/rooms/chat/clients/ws?user=sam"
let room = try RoomClient(url: url)
let reader = Task {
    for await event in room.events {
        if case .state(let state) = event { print("state:", state) }
        if case .message(let m) = event { print("\(m.seq) \(m.user): \(m.text)") }
    }
}
for text in ["hello from Swift", "and again"] {
    let ack = try await room.send(text)  // waits in the outbox while offline; stored once
    print("stored \"\(text)\" as \(ack.seq ?? 0)")
}
await room.close()
await reader.value
