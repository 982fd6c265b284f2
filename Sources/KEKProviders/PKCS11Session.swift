import CPKCS11
import Encryption

/// One read-write session on a token, with the object operations a key-wrapping provider needs.
///
/// Not thread-safe: PKCS #11 forbids using one session from two threads at once, so its owner confines it
/// (``PKCS11KEKProvider`` runs every call on one serial queue). The objects it creates are session objects
/// (CKA_TOKEN false): they never reach the token's storage and vanish with the session even if a destroy
/// is missed.
final class PKCS11Session {
    let module: PKCS11Module
    let slot: CK_SLOT_ID
    let handle: CK_SESSION_HANDLE
    private var isOpen = true

    /// The most bytes a wrap may return (a wrapped 32-byte DEK is 40; anything far larger is not ours).
    static let maxWrappedByteCount = 1024

    /// Opens a serial read-write session on `slot`.
    init(module: PKCS11Module, slot: CK_SLOT_ID) throws(PKCS11Module.Failure) {
        var handle: CK_SESSION_HANDLE = 0
        let flags = CK_FLAGS(CKF_SERIAL_SESSION | CKF_RW_SESSION)
        try module.call("C_OpenSession") { $0.C_OpenSession?(slot, flags, nil, nil, &handle) }
        self.module = module
        self.slot = slot
        self.handle = handle
    }

    deinit { close() }

    /// Closes the session; its session objects go with it. Safe to call twice; a failure is ignored (a session
    /// the token already dropped is closed all the same).
    func close() {
        guard isOpen else { return }
        isOpen = false
        try? module.call("C_CloseSession") { [handle] in $0.C_CloseSession?(handle) }
    }

    /// Throws unless the session still answers (C_GetSessionInfo), telling a token that refused an input from
    /// one that failed.
    func checkAlive() throws(PKCS11Module.Failure) {
        var info = CK_SESSION_INFO()
        try module.call("C_GetSessionInfo") { [handle] in $0.C_GetSessionInfo?(handle, &info) }
    }

    /// Logs the token in as the normal user; a token this process is already logged in to is accepted.
    func login(pin: SecretBytes) throws(PKCS11Module.Failure) {
        do throws(PKCS11Module.Failure) {
            try pin.withUnsafeBytes { (bytes) throws(PKCS11Module.Failure) in
                let pointer = UnsafeMutablePointer(mutating: bytes.bindMemory(to: CK_UTF8CHAR.self).baseAddress)
                try module.call("C_Login") { [handle] in
                    $0.C_Login?(handle, CK_USER_TYPE(CKU_USER), pointer, CK_ULONG(bytes.count))
                }
            }
        } catch {
            guard error.code == CKR_USER_ALREADY_LOGGED_IN else { throw error }
        }
    }

    /// The objects matching `template`, at most `limit` of them.
    func findObjects(_ template: Template, limit: Int) throws(PKCS11Module.Failure) -> [CK_OBJECT_HANDLE] {
        try module.call("C_FindObjectsInit") { [handle] in
            $0.C_FindObjectsInit?(handle, template.attributes, template.count)
        }
        defer { try? module.call("C_FindObjectsFinal") { [handle] in $0.C_FindObjectsFinal?(handle) } }
        var found = [CK_OBJECT_HANDLE](repeating: 0, count: limit)
        var count: CK_ULONG = 0
        try module.call("C_FindObjects") { [handle] list in
            found.withUnsafeMutableBufferPointer {
                list.C_FindObjects?(handle, $0.baseAddress, CK_ULONG(limit), &count)
            }
        }
        return Array(found.prefix(Int(count)))
    }

    /// A CK_ULONG attribute of `object` (CKA_KEY_TYPE, CKA_CLASS, …).
    func unsignedAttribute(_ type: CK_ATTRIBUTE_TYPE, of object: CK_OBJECT_HANDLE) throws(PKCS11Module.Failure)
        -> CK_ULONG
    {
        var value: CK_ULONG = 0
        try withUnsafeMutableBytes(of: &value) { (bytes) throws(PKCS11Module.Failure) in
            try readAttribute(type, of: object, into: bytes)
        }
        return value
    }

    /// A CK_BBOOL attribute of `object` (CKA_WRAP, CKA_UNWRAP, …).
    func boolAttribute(_ type: CK_ATTRIBUTE_TYPE, of object: CK_OBJECT_HANDLE) throws(PKCS11Module.Failure) -> Bool {
        var value = CK_BBOOL(CK_FALSE)
        try withUnsafeMutableBytes(of: &value) { (bytes) throws(PKCS11Module.Failure) in
            try readAttribute(type, of: object, into: bytes)
        }
        return value != CK_FALSE
    }

    private func readAttribute(
        _ type: CK_ATTRIBUTE_TYPE, of object: CK_OBJECT_HANDLE,
        into bytes: UnsafeMutableRawBufferPointer
    ) throws(PKCS11Module.Failure) {
        var attribute = CK_ATTRIBUTE(type: type, pValue: bytes.baseAddress, ulValueLen: CK_ULONG(bytes.count))
        try module.call("C_GetAttributeValue") { [handle] in $0.C_GetAttributeValue?(handle, object, &attribute, 1) }
        guard attribute.ulValueLen == CK_ULONG(bytes.count) else {
            throw PKCS11Module.Failure(function: "C_GetAttributeValue", code: CK_RV(CKR_ATTRIBUTE_VALUE_INVALID))
        }
    }

    /// The CKA_VALUE of `object` when it holds exactly `byteCount` bytes and may be read, else nil.
    ///
    /// The bytes are copied straight into ``SecretBytes``; the transfer buffer is zeroed before it is freed.
    func secretValue(of object: CK_OBJECT_HANDLE, byteCount: Int) throws(PKCS11Module.Failure) -> SecretBytes? {
        var probe = CK_ATTRIBUTE(type: CK_ATTRIBUTE_TYPE(CKA_VALUE), pValue: nil, ulValueLen: 0)
        try module.call("C_GetAttributeValue") { [handle] in $0.C_GetAttributeValue?(handle, object, &probe, 1) }
        guard probe.ulValueLen == CK_ULONG(byteCount) else { return nil }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 16)
        defer {
            SecretBytes.zero(buffer)
            buffer.deallocate()
        }
        var attribute = CK_ATTRIBUTE(
            type: CK_ATTRIBUTE_TYPE(CKA_VALUE), pValue: buffer.baseAddress,
            ulValueLen: CK_ULONG(byteCount))
        try module.call("C_GetAttributeValue") { [handle] in $0.C_GetAttributeValue?(handle, object, &attribute, 1) }
        guard attribute.ulValueLen == CK_ULONG(byteCount) else { return nil }
        return SecretBytes(copying: UnsafeRawBufferPointer(buffer))
    }

    /// Creates an object (a session object when the template says CKA_TOKEN false).
    func createObject(_ template: Template) throws(PKCS11Module.Failure) -> CK_OBJECT_HANDLE {
        var object: CK_OBJECT_HANDLE = 0
        try module.call("C_CreateObject") { [handle] in
            $0.C_CreateObject?(handle, template.attributes, template.count, &object)
        }
        return object
    }

    /// Destroys an object, ignoring a failure: a session object also dies with its session.
    func destroyObject(_ object: CK_OBJECT_HANDLE) {
        try? module.call("C_DestroyObject") { [handle] in $0.C_DestroyObject?(handle, object) }
    }

    /// Wraps `key` under `wrappingKey` with a parameterless mechanism and returns the token's output.
    func wrapKey(
        mechanism type: CK_MECHANISM_TYPE, wrappingKey: CK_OBJECT_HANDLE,
        key: CK_OBJECT_HANDLE
    ) throws(PKCS11Module.Failure) -> [UInt8] {
        var mechanism = CK_MECHANISM(mechanism: type, pParameter: nil, ulParameterLen: 0)
        var length: CK_ULONG = 0
        try module.call("C_WrapKey") { [handle] in $0.C_WrapKey?(handle, &mechanism, wrappingKey, key, nil, &length) }
        guard length > 0, length <= Self.maxWrappedByteCount else {
            throw PKCS11Module.Failure(function: "C_WrapKey", code: CK_RV(CKR_GENERAL_ERROR))
        }
        var wrapped = [UInt8](repeating: 0, count: Int(length))
        try module.call("C_WrapKey") { [handle] list in
            wrapped.withUnsafeMutableBufferPointer {
                list.C_WrapKey?(handle, &mechanism, wrappingKey, key, $0.baseAddress, &length)
            }
        }
        return Array(wrapped.prefix(Int(length)))
    }

    /// Unwraps `wrapped` under `unwrappingKey` into a new object described by `template`.
    func unwrapKey(
        mechanism type: CK_MECHANISM_TYPE, unwrappingKey: CK_OBJECT_HANDLE, wrapped: [UInt8],
        template: Template
    ) throws(PKCS11Module.Failure) -> CK_OBJECT_HANDLE {
        var mechanism = CK_MECHANISM(mechanism: type, pParameter: nil, ulParameterLen: 0)
        var input = wrapped
        var object: CK_OBJECT_HANDLE = 0
        try module.call("C_UnwrapKey") { [handle] list in
            input.withUnsafeMutableBufferPointer {
                list.C_UnwrapKey?(
                    handle, &mechanism, unwrappingKey, $0.baseAddress, CK_ULONG($0.count),
                    template.attributes, template.count, &object)
            }
        }
        return object
    }
}

extension PKCS11Session {
    /// An attribute list whose values this object owns, zeroed when it is freed (it may hold key bytes).
    ///
    /// PKCS #11 takes attributes as C pointers that must stay valid for the call, so values are copied into
    /// allocations with the template's lifetime rather than borrowed from Swift values.
    final class Template {
        /// The most attributes one template holds.
        static let capacity = 16

        let attributes: UnsafeMutablePointer<CK_ATTRIBUTE>
        private(set) var count: CK_ULONG = 0
        private var values: [UnsafeMutableRawBufferPointer] = []

        init() {
            attributes = .allocate(capacity: Self.capacity)
        }

        deinit {
            for value in values {
                SecretBytes.zero(value)
                value.deallocate()
            }
            attributes.deallocate()
        }

        func append(_ type: CK_ATTRIBUTE_TYPE, bytes: some Collection<UInt8>) {
            precondition(Int(count) < Self.capacity, "a PKCS #11 template holds at most \(Self.capacity) attributes")
            let value = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
            value.copyBytes(from: bytes)
            values.append(value)
            (attributes + Int(count)).initialize(
                to: CK_ATTRIBUTE(type: type, pValue: value.baseAddress, ulValueLen: CK_ULONG(bytes.count)))
            count += 1
        }

        func append(_ type: CK_ATTRIBUTE_TYPE, bool: Bool) {
            append(type, bytes: [bool ? CK_BBOOL(CK_TRUE) : CK_BBOOL(CK_FALSE)])
        }

        func append(_ type: CK_ATTRIBUTE_TYPE, unsigned: CK_ULONG) {
            withUnsafeBytes(of: unsigned) { append(type, bytes: $0) }
        }
    }
}
