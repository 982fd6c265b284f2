import KV
import Storage
import Testing
import TestSupport

@Suite struct MemberDirectoryTests {
    @Test func registrationsAreReplicatedStateAndOverwrite() throws {
        let dir = TemporaryDirectory("directory")
        defer { dir.remove() }
        let store = try MVCCStore(path: dir.file("db"))
        defer { store.close() }
        let machine = KVStateMachine(store: store)
        let entries: [Command] = [
            .registerMember(id: 7, name: Array("n2".utf8), address: Array("127.0.0.1:2".utf8)),
            .registerMember(id: 9, name: Array("n3".utf8), address: Array("127.0.0.1:3".utf8)),
            .registerMember(id: 7, name: Array("n2".utf8), address: Array("127.0.0.1:22".utf8)),
        ]
        for (offset, command) in entries.enumerated() {
            let entry = CommandEntry(proposedTS: 1, nowMillis: 1, commands: [command])
            #expect(machine.apply([CommittedEntry(index: UInt64(offset + 1), term: 1, data: entry.encoded())]).halt == nil)
        }
        let members = try MemberDirectory.members(in: store)
        #expect(members == [.init(id: 7, name: "n2", address: "127.0.0.1:22"), .init(id: 9, name: "n3", address: "127.0.0.1:3")])
        // User keys never see the directory.
        #expect(try store.scan(from: [], to: nil, nowMillis: 0, limit: 10).isEmpty)
    }
}
