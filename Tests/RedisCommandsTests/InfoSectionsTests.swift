import RedisCommands
import Testing

@Suite struct InfoSectionsTests {
    static let text = ["# Server", "redis_version:7.2.0", "", "# Replication", "role:master", "",
                       "# Commandstats", "cmdstat_get:calls=1", "", "# Keyspace", ""].joined(separator: "\r\n")
    static let withoutCommandStats = ["# Server", "redis_version:7.2.0", "", "# Replication", "role:master", "",
                                      "# Keyspace", ""].joined(separator: "\r\n")

    static func words(_ names: String...) -> [[UInt8]] { names.map { Array($0.utf8) } }

    @Test func noSectionOrDefaultLeavesOutThePerCommandSections() {
        #expect(InfoSections.select([], from: Self.text) == Self.withoutCommandStats)
        #expect(InfoSections.select(Self.words("DEFAULT"), from: Self.text) == Self.withoutCommandStats)
        #expect(InfoSections.select(Self.words("default", "commandstats"), from: Self.text) == Self.text)
        #expect(!InfoSections.selects("latencystats", []))
    }

    @Test func allAndEverythingGiveEverySection() {
        for name in ["all", "EVERYTHING"] {
            #expect(InfoSections.select(Self.words(name), from: Self.text) == Self.text)
        }
    }

    @Test func namedSectionsGiveOnlyThemselvesCaseInsensitivelyInTextOrder() {
        #expect(InfoSections.select(Self.words("replication"), from: Self.text) == "# Replication\r\nrole:master\r\n")
        #expect(InfoSections.select(Self.words("SERVER"), from: Self.text) == "# Server\r\nredis_version:7.2.0\r\n")
        #expect(InfoSections.select(Self.words("keyspace"), from: Self.text) == "# Keyspace\r\n")
        #expect(InfoSections.select(Self.words("commandstats"), from: Self.text) == "# Commandstats\r\ncmdstat_get:calls=1\r\n")
        #expect(InfoSections.select(Self.words("replication", "server", "nosuch"), from: Self.text)
            == "# Server\r\nredis_version:7.2.0\r\n\r\n# Replication\r\nrole:master\r\n")
    }

    @Test func unknownSectionsGiveNothing() {
        #expect(InfoSections.select(Self.words("nosuch"), from: Self.text) == "")
        #expect(InfoSections.select(Self.words("nosuch", "other"), from: Self.text) == "")
    }
}
