import Foundation
import Testing

@testable import KEKProviders

/// AWS's published Signature Version 4 test suite ("aws-sig-v4-test-suite": AKIDEXAMPLE, 2015-08-30T12:36:00Z,
/// us-east-1, service "service"), the signing-key example of AWS's documentation, and a KMS request signed by
/// botocore for comparison.
@Suite struct AWSSigV4Tests {
    static let credentials = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", source: "test suite")
    /// 2015-08-30T12:36:00Z.
    static let date = Date(timeIntervalSince1970: 1_440_938_160)
    static let token = """
        AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeo\
        IYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5V\
        SXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yj\
        c8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==
        """
    static let unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

    /// One case of the suite: the request and the expected canonical request, its SHA-256 (the last line of the
    /// expected string to sign) and the signature of the expected `Authorization` header.
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let request: AWSSigV4.Request
        let canonicalRequest: String
        let canonicalRequestHash: String
        let signature: String

        init(
            _ name: String, _ method: String, path: String, query: [(String, String)] = [], body: String = "",
            headers: [(String, String)]? = nil, extraHeaders: [(String, String)] = [], canonicalRequest: String,
            canonicalRequestHash: String, signature: String
        ) {
            let standard = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")]
            self.name = name
            self.request = AWSSigV4.Request(
                method: method, path: path, query: query.map { (name: $0.0, value: $0.1) },
                headers: ((headers ?? standard) + extraHeaders).map { (name: $0.0, value: $0.1) },
                body: Array(body.utf8))
            self.canonicalRequest = canonicalRequest
            self.canonicalRequestHash = canonicalRequestHash
            self.signature = signature
        }

        var testDescription: String { name }

        var signedHeaders: String { String(canonicalRequest.split(separator: "\n").dropLast().last ?? "") }
    }

    static let vectors: [Vector] = [
        Vector(
            "get-vanilla", "GET", path: "/",
            canonicalRequest: """
                GET
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        Vector(
            "get-vanilla-empty-query-key", "GET", path: "/",
            query: [("Param1", "value1")],
            canonicalRequest: """
                GET
                /
                Param1=value1
                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "1e24db194ed7d0eec2de28d7369675a243488e08526e8c1c73571282f7c517ab",
            signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"),
        Vector(
            "get-vanilla-query-order-key", "GET", path: "/",
            query: [("Param1", "value2"), ("Param1", "Value1")],
            canonicalRequest: """
                GET
                /
                Param1=Value1&Param1=value2
                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89",
            signature: "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"),
        Vector(
            "get-vanilla-query-order-key-case", "GET", path: "/",
            query: [("Param2", "value2"), ("Param1", "value1")],
            canonicalRequest: """
                GET
                /
                Param1=value1&Param2=value2
                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        Vector(
            "get-vanilla-query-order-value", "GET", path: "/",
            query: [("Param1", "value2"), ("Param1", "value1")],
            canonicalRequest: """
                GET
                /
                Param1=value1&Param1=value2
                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "c968629d70850097a2d8781c9bf7edcb988b04cac14cca9be4acc3595f884606",
            signature: "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"),
        Vector(
            "get-vanilla-query-unreserved", "GET", path: "/",
            query: [("\(unreserved)", "\(unreserved)")],
            canonicalRequest: """
                GET
                /
                \(unreserved)=\(unreserved)
                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
            signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
        Vector(
            "get-vanilla-utf8-query", "GET", path: "/",
            query: [("\u{1234}", "bar")],
            canonicalRequest: """
                GET
                /
                %E1%88%B4=bar
                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
            signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
        Vector(
            "get-header-key-duplicate", "GET", path: "/",
            extraHeaders: [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")],
            canonicalRequest: """
                GET
                /

                host:example.amazonaws.com
                my-header1:value2,value2,value1
                x-amz-date:20150830T123600Z

                host;my-header1;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
            signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
        Vector(
            "get-header-value-order", "GET", path: "/",
            extraHeaders: [
                ("My-Header1", "value4"),
                ("My-Header1", "value1"),
                ("My-Header1", "value3"),
                ("My-Header1", "value2"),
            ],
            canonicalRequest: """
                GET
                /

                host:example.amazonaws.com
                my-header1:value4,value1,value3,value2
                x-amz-date:20150830T123600Z

                host;my-header1;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86",
            signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"),
        Vector(
            "get-header-value-trim", "GET", path: "/",
            extraHeaders: [("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
            canonicalRequest: """
                GET
                /

                host:example.amazonaws.com
                my-header1:value1
                my-header2:"a b c"
                x-amz-date:20150830T123600Z

                host;my-header1;my-header2;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
            signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
        Vector(
            "get-unreserved", "GET", path: "/\(unreserved)",
            canonicalRequest: """
                GET
                /\(unreserved)

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
            signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
        Vector(
            "get-utf8", "GET", path: "/\u{1234}",
            canonicalRequest: """
                GET
                /%E1%88%B4

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
            signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
        Vector(
            "get-space", "GET", path: "/example space/",
            canonicalRequest: """
                GET
                /example%20space/

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
            signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"),
        Vector(
            "get-slash", "GET", path: "//",
            canonicalRequest: """
                GET
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        Vector(
            "get-slashes", "GET", path: "//example//",
            canonicalRequest: """
                GET
                /example/

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "cb96b4ac96d501f7c5c15bc6d67b3035061cfced4af6585ad927f7e6c985c015",
            signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"),
        Vector(
            "get-slash-dot-slash", "GET", path: "/./",
            canonicalRequest: """
                GET
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        Vector(
            "get-slash-pointless-dot", "GET", path: "/./example",
            canonicalRequest: """
                GET
                /example

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "214d50c111a8edc4819da6a636336472c916b5240f51e9a51b5c3305180cf702",
            signature: "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"),
        Vector(
            "get-relative", "GET", path: "/example/..",
            canonicalRequest: """
                GET
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        Vector(
            "get-relative-relative", "GET", path: "/example1/example2/../..",
            canonicalRequest: """
                GET
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        Vector(
            "post-vanilla", "POST", path: "/",
            canonicalRequest: """
                POST
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
            signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        Vector(
            "post-vanilla-query", "POST", path: "/",
            query: [("Param1", "value1")],
            canonicalRequest: """
                POST
                /
                Param1=value1
                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
            signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
        Vector(
            "post-header-key-case", "POST", path: "/",
            headers: [("host", "example.amazonaws.com"), ("x-amz-date", "20150830T123600Z")],
            canonicalRequest: """
                POST
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
            signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        Vector(
            "post-header-key-sort", "POST", path: "/",
            extraHeaders: [("My-Header1", "value1")],
            canonicalRequest: """
                POST
                /

                host:example.amazonaws.com
                my-header1:value1
                x-amz-date:20150830T123600Z

                host;my-header1;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
            signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"),
        Vector(
            "post-header-value-case", "POST", path: "/",
            extraHeaders: [("My-Header1", "VALUE1")],
            canonicalRequest: """
                POST
                /

                host:example.amazonaws.com
                my-header1:VALUE1
                x-amz-date:20150830T123600Z

                host;my-header1;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93",
            signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"),
        Vector(
            "post-x-www-form-urlencoded", "POST", path: "/",
            body: "Param1=value1",
            extraHeaders: [("Content-Type", "application/x-www-form-urlencoded")],
            canonicalRequest: """
                POST
                /

                content-type:application/x-www-form-urlencoded
                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                content-type;host;x-amz-date
                9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e
                """,
            canonicalRequestHash: "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
            signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
        Vector(
            "post-x-www-form-urlencoded-parameters", "POST", path: "/",
            body: "Param1=value1",
            extraHeaders: [("Content-Type", "application/x-www-form-urlencoded; charset=utf8")],
            canonicalRequest: """
                POST
                /

                content-type:application/x-www-form-urlencoded; charset=utf8
                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                content-type;host;x-amz-date
                9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e
                """,
            canonicalRequestHash: "2e1cf7ed91881a30569e46552437e4156c823447bf1781b921b5d486c568dd1c",
            signature: "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"),
        Vector(
            "post-sts-header-before", "POST", path: "/",
            extraHeaders: [("X-Amz-Security-Token", token)],
            canonicalRequest: """
                POST
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z
                x-amz-security-token:\(token)

                host;x-amz-date;x-amz-security-token
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
            signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"),
        Vector(
            "post-sts-header-after", "POST", path: "/",
            canonicalRequest: """
                POST
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            canonicalRequestHash: "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
            signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    ]

    @Test(arguments: vectors)
    func signsPublishedVector(_ vector: Vector) {
        let signature = AWSSigV4.sign(
            vector.request, credentials: Self.credentials, date: Self.date,
            region: "us-east-1", service: "service")
        #expect(signature.canonicalRequest == vector.canonicalRequest)
        #expect(
            signature.stringToSign == """
                AWS4-HMAC-SHA256
                20150830T123600Z
                20150830/us-east-1/service/aws4_request
                \(vector.canonicalRequestHash)
                """)
        #expect(signature.signedHeaders == vector.signedHeaders)
        #expect(
            signature.authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                + "aws4_request, SignedHeaders=\(vector.signedHeaders), Signature=\(vector.signature)")
    }

    @Test func suiteCoversMoreThanTwelveCases() {
        #expect(Set(Self.vectors.map(\.name)).count == Self.vectors.count)
        #expect(Self.vectors.count >= 12)
    }

    /// The example of "Examples of how to derive a signing key for Signature Version 4" in AWS's documentation.
    @Test func derivesDocumentedSigningKey() {
        let key = AWSSigV4.signingKey(
            credentials: Self.credentials, day: "20120215", region: "us-east-1",
            service: "iam")
        #expect(AWSSigV4.hex(key) == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }

    @Test func formatsAmzDateInUTC() {
        #expect(AWSSigV4.amzDate(Self.date) == "20150830T123600Z")
        #expect(AWSSigV4.amzDate(Date(timeIntervalSince1970: 946_684_799)) == "19991231T235959Z")
        #expect(AWSSigV4.amzDate(Date(timeIntervalSince1970: 1_709_251_205)) == "20240301T000005Z")
    }

    @Test func signatureDescriptionHidesTheSignature() {
        let signature = AWSSigV4.sign(
            Self.vectors[0].request, credentials: Self.credentials, date: Self.date,
            region: "us-east-1", service: "service")
        #expect(!signature.description.contains(Self.vectors[0].signature))
        #expect(!signature.description.contains("Credential="))
        #expect(!Self.credentials.description.contains("wJalrXUtnFEMI"))
    }

    /// A KMS Encrypt request, with and without a session token, signed by us and by botocore's `SigV4Auth` (the
    /// signer of the AWS CLI and boto3): the canonical request, string to sign and signature must match.
    @Test(arguments: [false, true])
    func matchesBotocoreOnKMSRequest(withSessionToken: Bool) throws {
        let credentials = AWSCredentials(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            sessionToken: withSessionToken ? "FwoGZXIvYXdzEXAMPLE//token+value=" : nil, source: "test")
        let body =
            #"{"KeyId":"alias/elastickv","Plaintext":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","#
            + #""EncryptionContext":{"cluster":"c\u00e9 one","purpose":"kek"}}"#
        var headers: [(name: String, value: String)] = [
            ("Host", "kms.eu-west-1.amazonaws.com"), ("X-Amz-Date", "20260301T101112Z"),
            ("X-Amz-Target", "TrentService.Encrypt"), ("Content-Type", "application/x-amz-json-1.1"),
        ]
        if let token = credentials.sessionToken { headers.append(("X-Amz-Security-Token", token)) }
        let date = Date(timeIntervalSince1970: 1_772_359_872)
        let ours = AWSSigV4.sign(
            .init(method: "POST", headers: headers, body: Array(body.utf8)),
            credentials: credentials, date: date, region: "eu-west-1", service: "kms")
        let theirs = try BotocoreSigner.sign(
            url: "https://kms.eu-west-1.amazonaws.com/", headers: headers, body: body, timestamp: "20260301T101112Z",
            accessKeyID: credentials.accessKeyID, secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            token: credentials.sessionToken, region: "eu-west-1", service: "kms")
        #expect(ours.canonicalRequest == theirs["canonical_request"])
        #expect(ours.stringToSign == theirs["string_to_sign"])
        #expect(ours.authorization.hasSuffix("Signature=" + (theirs["signature"] ?? "missing")))
        #expect(
            ours.signedHeaders
                == (withSessionToken
                    ? "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
                    : "content-type;host;x-amz-date;x-amz-target"))
    }
}

/// botocore's SigV4 signer, run by the first `python3` on PATH (moto[server], which the KMS tests need, brings
/// botocore along).
enum BotocoreSigner {
    static let script = """
        import json, sys
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        given = json.load(sys.stdin)
        request = AWSRequest(method="POST", url=given["url"], data=given["body"].encode(), headers=given["headers"])
        request.context["timestamp"] = given["timestamp"]
        auth = SigV4Auth(Credentials(given["access_key"], given["secret"], given["token"]), given["service"],
                         given["region"])
        canonical = auth.canonical_request(request)
        to_sign = auth.string_to_sign(request, canonical)
        print(json.dumps({"canonical_request": canonical, "string_to_sign": to_sign,
                          "signature": auth.signature(to_sign, request)}))
        """

    static func sign(
        url: String, headers: [(name: String, value: String)], body: String, timestamp: String,
        accessKeyID: String, secret: String, token: String?, region: String, service: String
    )
        throws -> [String: String]
    {
        let input: [String: Any] = [
            "url": url, "headers": Dictionary(uniqueKeysWithValues: headers.map { ($0.name, $0.value) }),
            "body": body, "timestamp": timestamp, "access_key": accessKeyID, "secret": secret,
            "token": token ?? NSNull(), "region": region, "service": service,
        ]
        let python = try AWSTestTool.locate(
            "python3", installHint: "python3 with botocore (pip install 'moto[server]')")
        let output = try AWSTestTool.run(
            python, arguments: ["-c", script],
            input: try JSONSerialization.data(withJSONObject: input), timeout: .seconds(60))
        guard output.status == 0,
            let answer = try JSONSerialization.jsonObject(with: output.standardOutput) as? [String: String]
        else {
            throw AWSTestTool.Failure(
                "botocore could not sign (is it installed? pip install 'moto[server]'): "
                    + String(decoding: output.standardError.suffix(2000), as: UTF8.self))
        }
        return answer
    }
}
