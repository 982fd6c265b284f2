import Encryption
import Testing

@Suite struct KEKURITests {
    @Test func schemeBodyAndOptionsAreSplitAndDecoded() throws {
        let uri = try KEKURI("aws-kms:arn:aws:kms:eu-west-1:1:key/abc?region=eu-west-1&endpoint=http%3A%2F%2F127.0.0.1%3A4566")
        #expect(uri.scheme == "aws-kms")
        #expect(uri.body == "arn:aws:kms:eu-west-1:1:key/abc")
        #expect(uri.option("region") == "eu-west-1")
        #expect(uri.option("endpoint") == "http://127.0.0.1:4566")
        #expect(uri.withoutQuery == "aws-kms:arn:aws:kms:eu-west-1:1:key/abc")
        #expect(uri.unknownOptions(known: ["region"]) == ["endpoint"])
        let pkcs = try KEKURI("PKCS11:token=t;object=o?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/p")
        #expect(pkcs.scheme == "pkcs11")
        #expect(pkcs.body == "token=t;object=o")
        #expect(pkcs.option("pin-source") == "file:/p")
        #expect(try KEKURI("kms-plugin:unix:///run/kms.sock").body == "unix:///run/kms.sock")
    }

    @Test(arguments: ["", "/etc/kek", "nope:x", "file:", "file:?a=b", "aws-kms:k?a=%zz", "aws-kms:k?=v", "exec:p?a=%4"])
    func malformedURIsAreRefusedWithoutRepeatingThem(text: String) {
        let error = #expect(throws: KEKURIError.self) { try KEKURI(text) }
        let description = "\(error!)"
        #expect(description.contains("--kek"))
        if text.count > 8 { #expect(!description.contains(text)) }
    }
}
