/// ACL LIST lines and ACL SETUSER errors read from redis-server 7.0.15 for these rule sequences (each string one
/// argument of `ACL SETUSER u …`, applied to a new user).
extension ACLUserTests {
    /// Byte for byte what Redis prints.
    static let exact: [(rules: [String], expected: String)] = [
        (["reset"], "user u off sanitize-payload resetchannels -@all"),
        (["on"], "user u on resetchannels -@all"),
        (["on", "off"], "user u off resetchannels -@all"),
        (["nopass"], "user u off nopass resetchannels -@all"),
        ([">pass"], "user u off #d74ff0ee8da3b9806b18c877dbf29bbde50b5bd8e4dad7a3a725000feb82e8f1 resetchannels -@all"),
        (
            [">pass", ">pass", ">other"],
            "user u off #d74ff0ee8da3b9806b18c877dbf29bbde50b5bd8e4dad7a3a725000feb82e8f1 "
                + "#d9298a10d1b0735837dc4bd85dac641b0f3cef27a47e5d53a54f2f3f5b2fcffa resetchannels -@all"
        ),
        ([">pass", "<pass"], "user u off resetchannels -@all"),
        (
            ["nopass", ">x"],
            "user u off #2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 resetchannels "
                + "-@all"
        ),
        ([">x", "nopass"], "user u off nopass resetchannels -@all"),
        ([">x", "resetpass"], "user u off resetchannels -@all"),
        (
            ["#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"],
            "user u off #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 resetchannels "
                + "-@all"
        ),
        (
            [">password", "!5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"],
            "user u off resetchannels -@all"
        ),
        ([">"], "user u off #e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 resetchannels -@all"),
        (["skip-sanitize-payload"], "user u off skip-sanitize-payload resetchannels -@all"),
        (["sanitize-payload"], "user u off sanitize-payload resetchannels -@all"),
        (["skip-sanitize-payload", "reset"], "user u off sanitize-payload resetchannels -@all"),
        (["ON", "NOPASS"], "user u on nopass resetchannels -@all"),
        (["~foo"], "user u off ~foo resetchannels -@all"),
        (["~foo", "~bar", "~foo"], "user u off ~foo ~bar resetchannels -@all"),
        (["%R~foo"], "user u off %R~foo resetchannels -@all"),
        (["%W~foo"], "user u off %W~foo resetchannels -@all"),
        (["%RW~foo"], "user u off ~foo resetchannels -@all"),
        (["%WR~foo"], "user u off ~foo resetchannels -@all"),
        (["%rw~foo"], "user u off ~foo resetchannels -@all"),
        (["%R~foo", "%W~foo"], "user u off ~foo resetchannels -@all"),
        (["%R~foo", "~foo"], "user u off ~foo resetchannels -@all"),
        (["~foo", "%R~foo"], "user u off ~foo resetchannels -@all"),
        (["%R~*"], "user u off %R~* resetchannels -@all"),
        (["%RW~*"], "user u off ~* resetchannels -@all"),
        (["~*"], "user u off ~* resetchannels -@all"),
        (["allkeys"], "user u off ~* resetchannels -@all"),
        (["allkeys", "resetkeys", "~foo"], "user u off ~foo resetchannels -@all"),
        (["~foo", "allkeys"], "user u off ~* resetchannels -@all"),
        (["%R~foo", "allkeys"], "user u off ~* resetchannels -@all"),
        (["%R"], "user u off %R~ resetchannels -@all"),
        (["%R~"], "user u off %R~ resetchannels -@all"),
        (["~"], "user u off ~ resetchannels -@all"),
        (["%R~a~b"], "user u off %R~a~b resetchannels -@all"),
        (["&foo"], "user u off resetchannels &foo -@all"),
        (["&foo", "&bar", "&foo"], "user u off resetchannels &foo &bar -@all"),
        (["&*"], "user u off &* -@all"),
        (["allchannels"], "user u off &* -@all"),
        (["allchannels", "resetchannels", "&x"], "user u off resetchannels &x -@all"),
        (["&"], "user u off resetchannels & -@all"),
        (["resetchannels"], "user u off resetchannels -@all"),
        (["allkeys", "allchannels", "allcommands"], "user u off ~* &* +@all"),
        (
            ["#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"],
            "user u off #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 resetchannels "
                + "-@all"
        ),
        (
            [
                "#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
                "!5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
            ],
            "user u off resetchannels -@all"
        ),
        (
            ["#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8", ">password"],
            "user u off #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 resetchannels "
                + "-@all"
        ),
        (
            ["nopass", "#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"],
            "user u off #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 resetchannels "
                + "-@all"
        ),
        (["%W"], "user u off %W~ resetchannels -@all"),
        (["%RW"], "user u off ~ resetchannels -@all"),
        (["%RW~*", "~foo"], "user u off ~* ~foo resetchannels -@all"),
        (["%RW~*", "allkeys"], "user u off ~* resetchannels -@all"),
        (["%R~*", "allkeys"], "user u off ~* resetchannels -@all"),
        (["%RW~*", "resetkeys"], "user u off resetchannels -@all"),
        (["~foo", "~*"], "user u off ~* resetchannels -@all"),
        (["resetkeys"], "user u off resetchannels -@all"),
        (["ALLKEYS"], "user u off ~* resetchannels -@all"),
        (["~FOO"], "user u off ~FOO resetchannels -@all"),
        (["&*", "&*"], "user u off &* -@all"),
        (["~*", "~*"], "user u off ~* resetchannels -@all"),
        (["%R~foo", "%R~foo"], "user u off %R~foo resetchannels -@all"),
        (["%W~foo", "%R~foo", "~bar"], "user u off ~foo ~bar resetchannels -@all"),
        (["+get"], "user u off resetchannels -@all +get"),
        (["+GET"], "user u off resetchannels -@all +get"),
        (["+@all"], "user u off resetchannels +@all"),
        (["allcommands"], "user u off resetchannels +@all"),
        (["nocommands"], "user u off resetchannels -@all"),
        (["+@all", "-@all"], "user u off resetchannels -@all"),
        (["+@read"], "user u off resetchannels -@all +@read"),
        (["+@write"], "user u off resetchannels -@all +@write"),
        (["+@all", "-@write"], "user u off resetchannels +@all -@write"),
        (["+@all", "-@write", "+set"], "user u off resetchannels +@all -@write +set"),
        (["+@read", "-get"], "user u off resetchannels -@all +@read -get"),
        (["+@read", "+@write"], "user u off resetchannels -@all +@write +@read"),
        (["+@all", "-@dangerous"], "user u off resetchannels +@all -@dangerous"),
        (["+@hash"], "user u off resetchannels -@all +@hash"),
        (["+@hash", "-hget"], "user u off resetchannels -@all +@hash -hget"),
        (["+@hash", "+get"], "user u off resetchannels -@all +@hash +get"),
        (["+@string", "+@hash"], "user u off resetchannels -@all +@string +@hash"),
        (["-@all", "+@pubsub"], "user u off resetchannels -@all +@pubsub"),
        (["+@admin"], "user u off resetchannels -@all +@admin"),
        (["+config"], "user u off resetchannels -@all +config"),
        (["+config|get"], "user u off resetchannels -@all +config|get"),
        (["+config", "-config|set"], "user u off resetchannels -@all +config -config|set"),
        (["+@all", "-config|set"], "user u off resetchannels +@all -config|set"),
        (["+client|kill"], "user u off resetchannels -@all +client|kill"),
        (["+client|kill", "+client"], "user u off resetchannels -@all +client"),
        (["+select|0"], "user u off resetchannels -@all +select|0"),
        (["+select|0", "+select|1", "+select|0"], "user u off resetchannels -@all +select|0 +select|1"),
        (["+select|0", "+select"], "user u off resetchannels -@all +select"),
        (["+@all", "+select|0"], "user u off resetchannels +@all"),
        (["+@all", "-select", "+select|0", "+select|1"], "user u off resetchannels +@all -select +select|0 +select|1"),
        (["+select|0", "-@all"], "user u off resetchannels -@all"),
        (["+select|0", "+@keyspace"], "user u off resetchannels -@all +@keyspace +select|0"),
        (["+select|0", "-select"], "user u off resetchannels -@all"),
        (["+debug|object"], "user u off resetchannels -@all +debug|object"),
        (["+@connection"], "user u off resetchannels -@all +@connection"),
        (["-get"], "user u off resetchannels -@all"),
        (["-@read"], "user u off resetchannels -@all"),
        (["+@all", "-get"], "user u off resetchannels +@all -get"),
        (["+@all", "-get", "+get"], "user u off resetchannels +@all"),
        (["+@all", "-@read", "+@read"], "user u off resetchannels +@all"),
        (["+@read", "+@read"], "user u off resetchannels -@all +@read"),
        (["+@all", "+@read"], "user u off resetchannels +@all"),
        (["+@slow"], "user u off resetchannels -@all +@slow"),
        (["+@fast"], "user u off resetchannels -@all +@fast"),
        (["+@fast", "+@slow"], "user u off resetchannels -@all +@slow +@fast"),
        (["+@keyspace"], "user u off resetchannels -@all +@keyspace"),
        (["+@dangerous"], "user u off resetchannels -@all +@dangerous"),
        (["+@scripting"], "user u off resetchannels -@all +@scripting"),
        (["+@transaction"], "user u off resetchannels -@all +@transaction"),
        (["+@blocking"], "user u off resetchannels -@all +@blocking"),
        (["+@set", "+@sortedset", "+@list"], "user u off resetchannels -@all +@sortedset +@list +@set"),
        (
            ["+@geo", "+@bitmap", "+@hyperloglog", "+@stream"],
            "user u off resetchannels -@all +@stream +@geo +@bitmap +@hyperloglog"
        ),
        (["-@all", "+@read", "-@write"], "user u off resetchannels -@all +@read"),
        (["+@all", "-@read", "-@write"], "user u off resetchannels +@all -@write -@read"),
        (["+@all", "-@slow"], "user u off resetchannels +@all -@slow"),
        (["(+get", "~a)"], "user u off resetchannels -@all (~a resetchannels -@all +get)"),
        (
            ["(+get ~a)", "(+set)"],
            "user u off resetchannels -@all (~a resetchannels -@all +get) (resetchannels -@all +set)"
        ),
        (["(+get ~a)", "clearselectors"], "user u off resetchannels -@all"),
        (["()"], "user u off resetchannels -@all (resetchannels -@all)"),
        (["( )"], "user u off resetchannels -@all (resetchannels -@all)"),
        (["(\"unterminated)"], "user u off resetchannels -@all (resetchannels -@all)"),
        (["(~\"a\")"], "user u off resetchannels -@all (~a resetchannels -@all)"),
        (["(\"~a\"x)"], "user u off resetchannels -@all (resetchannels -@all)"),
        (["(\"~a\\x41\")"], "user u off resetchannels -@all (~aA resetchannels -@all)"),
        (["(allkeys allchannels +@all)"], "user u off resetchannels -@all (~* &* +@all)"),
        (["(", ")"], "user u off resetchannels -@all (resetchannels -@all)"),
        (["(+get", "", ")"], "user u off resetchannels -@all (resetchannels -@all +get)"),
        (["(~a)", "reset"], "user u off sanitize-payload resetchannels -@all"),
        (["(&x)"], "user u off resetchannels -@all (resetchannels &x -@all)"),
        (["(allchannels)"], "user u off resetchannels -@all (&* -@all)"),
        (["(+get", "(+set", "~a)"], "user u off resetchannels -@all (~a resetchannels -@all +set)"),
        (["(+@read -get)"], "user u off resetchannels -@all (resetchannels -@all +@read -get)"),
        (["CLEARSELECTORS"], "user u off resetchannels -@all"),
        (["+CONFIG|GET"], "user u off resetchannels -@all +config|get"),
        (["+select|ABC"], "user u off resetchannels -@all +select|ABC"),
        (["+select|abc", "+select|ABC"], "user u off resetchannels -@all +select|abc"),
        (["+@READ"], "user u off resetchannels -@all +@read"),
        (["+@All"], "user u off resetchannels +@all"),
        (["ALLCOMMANDS"], "user u off resetchannels +@all"),
        (["NOCOMMANDS"], "user u off resetchannels -@all"),
        (["-@ALL"], "user u off resetchannels -@all"),
        (["+config|get", "+config|GET"], "user u off resetchannels -@all +config|get"),
        (["+config|get", "-config"], "user u off resetchannels -@all"),
        (["+client", "-client|kill", "+client|kill"], "user u off resetchannels -@all +client"),
        (["+auth"], "user u off resetchannels -@all +auth"),
        (["-client|kill"], "user u off resetchannels -@all"),
        (["+client|kill"], "user u off resetchannels -@all +client|kill"),
        (["skip-sanitize-payload", "nopass", "on"], "user u on nopass skip-sanitize-payload resetchannels -@all"),
        (["sanitize-payload", "skip-sanitize-payload"], "user u off skip-sanitize-payload resetchannels -@all"),
        (
            ["reset", "on", "nopass", "skip-sanitize-payload"],
            "user u on nopass skip-sanitize-payload resetchannels -@all"
        ),
        (
            [">a", ">b", "<a", ">a"],
            "user u off #3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d "
                + "#ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb resetchannels -@all"
        ),
        (["~b", "~a", "%R~b"], "user u off ~b ~a resetchannels -@all"),
        (["%R~x", "%R~y", "%W~x"], "user u off ~x %R~y resetchannels -@all"),
        (["&b", "&a"], "user u off resetchannels &b &a -@all"),
        (["~a", "resetkeys", "~b"], "user u off ~b resetchannels -@all"),
        (
            ["on", ">p", "~a", "%R~b", "&c", "+get", "(+set ~x &y)", "(%W~z)"],
            "user u on #148de9c5a7a44d19e56cd9ae1a554bf67847afb0c58f6e12fa29ac7ddfca9940 ~a %R~b "
                + "resetchannels &c -@all +get (~x resetchannels &y -@all +set) (%W~z resetchannels -@all)"
        ),
        ([""], "user u off resetchannels -@all"),
        (["", "on", ""], "user u on resetchannels -@all"),
    ]

    /// The words Redis prints, with the single commands in the table's sorted order: Redis prints those in the
    /// order of its command dictionary, which its hash seed reshuffles on every start.
    static let reordered: [(rules: [String], expected: String)] = [
        (
            ["+client", "-client|kill", "-client|list"],
            "user u off resetchannels -@all +client -client|kill -client|list"
        ),
        (
            ["+@read", "-@fast"],
            "user u off resetchannels -@all +@geo +@read -bitfield_ro -dbsize -exists -expiretime -geoadd "
                + "-georadius -georadiusbymember -geosearchstore -get -getbit -hexists -hget -hlen -hmget "
                + "-hstrlen -llen -lolwut -mget -pexpiretime -pttl -scard -sismember -smismember -strlen -touch "
                + "-ttl -type -xlen -zcard -zcount -zlexcount -zmscore -zrank -zrevrank -zscore"
        ),
    ]

    /// The error line Redis answers (RESP adds the leading `-`).
    static let errors: [(rules: [String], expected: String)] = [
        (
            ["<pass"],
            "ERR Error in ACL SETUSER modifier '<pass': The password you are trying to remove from the "
                + "user does not exist"
        ),
        (
            ["#5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8"],
            "ERR Error in ACL SETUSER modifier "
                + "'#5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8': The password hash must "
                + "be exactly 64 characters and contain only lowercase hexadecimal characters"
        ),
        (
            ["!5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"],
            "ERR Error in ACL SETUSER modifier "
                + "'!5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8': The password you are "
                + "trying to remove from the user does not exist"
        ),
        (
            ["!nothex"],
            "ERR Error in ACL SETUSER modifier '!nothex': The password hash must be exactly 64 characters "
                + "and contain only lowercase hexadecimal characters"
        ),
        (
            ["<"],
            "ERR Error in ACL SETUSER modifier '<': The password you are trying to remove from the user "
                + "does not exist"
        ),
        (
            ["#"],
            "ERR Error in ACL SETUSER modifier '#': The password hash must be exactly 64 characters and "
                + "contain only lowercase hexadecimal characters"
        ),
        (
            ["!"],
            "ERR Error in ACL SETUSER modifier '!': The password hash must be exactly 64 characters and "
                + "contain only lowercase hexadecimal characters"
        ),
        (
            ["allkeys", "~foo"],
            "ERR Error in ACL SETUSER modifier '~foo': Adding a pattern after the * pattern (or the "
                + "'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an "
                + "empty list of patterns"
        ),
        (["%~foo"], "ERR Error in ACL SETUSER modifier '%~foo': Syntax error"),
        (["%RR~a"], "ERR Error in ACL SETUSER modifier '%RR~a': Syntax error"),
        (["%X~a"], "ERR Error in ACL SETUSER modifier '%X~a': Syntax error"),
        (["%Rx~a"], "ERR Error in ACL SETUSER modifier '%Rx~a': Syntax error"),
        (
            ["allchannels", "&foo"],
            "ERR Error in ACL SETUSER modifier '&foo': Adding a pattern after the * pattern (or the "
                + "'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start "
                + "with an empty list of channels"
        ),
        (
            ["#5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8"],
            "ERR Error in ACL SETUSER modifier "
                + "'#5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8': The password hash must "
                + "be exactly 64 characters and contain only lowercase hexadecimal characters"
        ),
        (
            ["#"],
            "ERR Error in ACL SETUSER modifier '#': The password hash must be exactly 64 characters and "
                + "contain only lowercase hexadecimal characters"
        ),
        (["%"], "ERR Error in ACL SETUSER modifier '%': Syntax error"),
        (
            ["~*", "%R~foo"],
            "ERR Error in ACL SETUSER modifier '%R~foo': Adding a pattern after the * pattern (or the "
                + "'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an "
                + "empty list of patterns"
        ),
        (["(badrule)"], "ERR Error in ACL SETUSER modifier '(badrule)': Syntax error"),
        (["(+get", "badrule)"], "ERR Error in ACL SETUSER modifier '(+get badrule)': Syntax error"),
        (["(\"~a b\")"], "ERR Error in ACL SETUSER modifier '(\"~a b\")': Syntax error"),
        (["(\"\")"], "ERR Error in ACL SETUSER modifier '(\"\")': Syntax error"),
        (["(on)"], "ERR Error in ACL SETUSER modifier '(on)': Syntax error"),
        (["(reset)"], "ERR Error in ACL SETUSER modifier '(reset)': Syntax error"),
        (["(>x)"], "ERR Error in ACL SETUSER modifier '(>x)': Syntax error"),
        (["(clearselectors)"], "ERR Error in ACL SETUSER modifier '(clearselectors)': Syntax error"),
        (["("], "ERR Unmatched parenthesis in acl selector starting at '('."),
        ([")"], "ERR Error in ACL SETUSER modifier ')': Syntax error"),
        (["(+get)x"], "ERR Unmatched parenthesis in acl selector starting at '(+get)x'."),
        (["x(+get)"], "ERR Error in ACL SETUSER modifier 'x(+get)': Syntax error"),
        (
            ["(+get) (+set)"],
            "ERR Error in ACL SETUSER modifier '(+get) (+set)': Unknown command or category name in ACL"
        ),
        (["(+get", "(+set)"], "ERR Error in ACL SETUSER modifier '(+get (+set)': Syntax error"),
        (["(+get", "x", "(y"], "ERR Unmatched parenthesis in acl selector starting at '(y'."),
        (["(+get"], "ERR Unmatched parenthesis in acl selector starting at '(+get'."),
        (["~a", "(x"], "ERR Unmatched parenthesis in acl selector starting at '(x'."),
        (["on", ">p", "(+get", "~a"], "ERR Unmatched parenthesis in acl selector starting at '(+get'."),
        (["+"], "ERR Error in ACL SETUSER modifier '+': Unknown command or category name in ACL"),
        (["-"], "ERR Error in ACL SETUSER modifier '-': Unknown command or category name in ACL"),
        (["+@"], "ERR Error in ACL SETUSER modifier '+@': Unknown command or category name in ACL"),
        (["-@"], "ERR Error in ACL SETUSER modifier '-@': Unknown command or category name in ACL"),
        (["+|"], "ERR Error in ACL SETUSER modifier '+|': Unknown command or category name in ACL"),
        (["+get|"], "ERR Error in ACL SETUSER modifier '+get|': Syntax error"),
        (["+config|"], "ERR Error in ACL SETUSER modifier '+config|': Syntax error"),
        (
            ["+config|nosuch"],
            "ERR Error in ACL SETUSER modifier '+config|nosuch': Unknown command or category name in ACL"
        ),
        (
            ["+config|get|x"],
            "ERR Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not "
                + "supported"
        ),
        (["+select|0|1"], "ERR Error in ACL SETUSER modifier '+select|0|1': Unknown command or category name in ACL"),
        (["+select||"], "ERR Error in ACL SETUSER modifier '+select||': Unknown command or category name in ACL"),
        (
            ["-config|get|x"],
            "ERR Error in ACL SETUSER modifier '-config|get|x': Unknown command or category name in ACL"
        ),
        (["-|get"], "ERR Error in ACL SETUSER modifier '-|get': Unknown command or category name in ACL"),
        (["+|get"], "ERR Error in ACL SETUSER modifier '+|get': Unknown command or category name in ACL"),
        (["-config|"], "ERR Error in ACL SETUSER modifier '-config|': Unknown command or category name in ACL"),
        (["+get|x|"], "ERR Error in ACL SETUSER modifier '+get|x|': Unknown command or category name in ACL"),
        (["+@all|x"], "ERR Error in ACL SETUSER modifier '+@all|x': Unknown command or category name in ACL"),
        (["+@read|x"], "ERR Error in ACL SETUSER modifier '+@read|x': Unknown command or category name in ACL"),
        (["-get|foo"], "ERR Error in ACL SETUSER modifier '-get|foo': Unknown command or category name in ACL"),
        (["+nosuchcmd"], "ERR Error in ACL SETUSER modifier '+nosuchcmd': Unknown command or category name in ACL"),
        (["+@nosuchcat"], "ERR Error in ACL SETUSER modifier '+@nosuchcat': Unknown command or category name in ACL"),
        (
            ["#nothex"],
            "ERR Error in ACL SETUSER modifier '#nothex': The password hash must be exactly 64 characters "
                + "and contain only lowercase hexadecimal characters"
        ),
        (["badrule"], "ERR Error in ACL SETUSER modifier 'badrule': Syntax error"),
        (
            ["allkeys", "%X~a"],
            "ERR Error in ACL SETUSER modifier '%X~a': Adding a pattern after the * pattern (or the "
                + "'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an "
                + "empty list of patterns"
        ),
        (
            ["allkeys", "%~a"],
            "ERR Error in ACL SETUSER modifier '%~a': Adding a pattern after the * pattern (or the "
                + "'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an "
                + "empty list of patterns"
        ),
    ]
}
