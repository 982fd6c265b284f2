import Encryption
import KV
import Testing

/// The FSM opcode table (DESIGN §3.7) is written twice: in KV, which dispatches every entry, and in the
/// encryption codecs, which cannot import KV. They must agree byte for byte.
@Suite struct OpcodeTests {
    @Test func theEncryptionOpcodesAreTheFSMs() {
        #expect(Opcode.writerRegistration.rawValue == EncryptionEntry.Opcode.writerRegistration)
        #expect(Opcode.encryptionBootstrap.rawValue == EncryptionEntry.Opcode.bootstrap)
        #expect(Opcode.keyManagement.rawValue == EncryptionEntry.Opcode.keyManagement)
    }

    @Test func theNormativeValuesAreFixed() {
        #expect(Opcode.allCases.map(\.rawValue) == [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06])
    }
}
