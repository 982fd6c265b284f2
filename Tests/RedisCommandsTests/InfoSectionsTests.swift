import RedisCommands
import Testing

@Suite struct InfoSectionsTests {
    static let text = ["# Server", "redis_version:7.2.0", "", "# Replication", "role:master", "",
                       "# Keyspace", ""].joined(separator: "\r\n")

    @Test func noSectionOrAllGivesEverything() {
        #expect(InfoSections.select(nil, from: Self.text) == Self.text)
        for name in ["all", "EVERYTHING", "default"] {
            #expect(InfoSections.select(Array(name.utf8), from: Self.text) == Self.text)
        }
    }

    @Test func aSectionGivesOnlyItselfCaseInsensitively() {
        #expect(InfoSections.select(Array("replication".utf8), from: Self.text) == "# Replication\r\nrole:master\r\n")
        #expect(InfoSections.select(Array("SERVER".utf8), from: Self.text) == "# Server\r\nredis_version:7.2.0\r\n")
        #expect(InfoSections.select(Array("keyspace".utf8), from: Self.text) == "# Keyspace\r\n")
    }

    @Test func anUnknownSectionGivesNothing() {
        #expect(InfoSections.select(Array("nosuch".utf8), from: Self.text) == "")
    }
}
