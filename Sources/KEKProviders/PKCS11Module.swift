import CPKCS11
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A PKCS #11 module (a token vendor's shared library), loaded and initialised once per process.
///
/// A module keeps process-wide state: C_Initialize may run once until C_Finalize. So every user of the same
/// library (the path after symlinks are resolved) shares one instance through ``acquire(path:)``, and the last
/// ``release()`` finalises and unloads it. The library is opened with `dlopen` and reached through
/// `C_GetFunctionList`, never linked, so a node that names no PKCS #11 KEK needs no vendor library. It is
/// initialised with CKF_OS_LOCKING_OK: calls may come from several threads and the module locks with the
/// system's primitives. A module that something else in the process had already initialised
/// (CKR_CRYPTOKI_ALREADY_INITIALIZED) is used as it is and left initialised on release.
///
/// Sendable because every stored property is immutable after initialisation and the module is thread-safe.
final class PKCS11Module: @unchecked Sendable {
    /// The library as resolved (the registry key).
    let path: String
    private let library: UnsafeMutableRawPointer
    private let functions: UnsafeMutablePointer<CK_FUNCTION_LIST>
    private let finalizesOnRelease: Bool

    /// The most slots a slot list may hold (a bound on what a module may make us allocate).
    static let maxSlotCount = 1024
    /// The most mechanisms a mechanism list may hold.
    static let maxMechanismCount = 4096

    private struct Entry {
        let module: PKCS11Module
        var users: Int
    }

    private static let registry = Mutex<[String: Entry]>([:])

    /// Why a module could not be loaded; the text names the library and the failing step, nothing secret.
    struct LoadError: Error, Hashable, Sendable, CustomStringConvertible {
        let description: String
        /// The CKR code when C_Initialize refused, nil when the library could not be opened.
        let code: CK_RV?
    }

    /// A PKCS #11 function that returned something other than CKR_OK.
    struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        /// The function, such as `C_Login`.
        let function: String
        /// The CKR code it returned.
        let code: CK_RV

        /// The CKR constant's name, or its hexadecimal value when the code is not a standard one.
        var codeName: String { PKCS11Module.name(ofReturnValue: code) }

        var description: String { "\(function) returned \(codeName)" }
    }

    private init(
        path: String, library: UnsafeMutableRawPointer, functions: UnsafeMutablePointer<CK_FUNCTION_LIST>,
        finalizesOnRelease: Bool
    ) {
        self.path = path
        self.library = library
        self.functions = functions
        self.finalizesOnRelease = finalizesOnRelease
    }

    /// Returns the process's instance of the module at `path`, loading and initialising it on first use.
    ///
    /// Every successful call must be balanced by one ``release()``.
    ///
    /// - Throws: ``LoadError`` when the file is missing, is not a PKCS #11 module, or C_Initialize fails.
    static func acquire(path: String) throws(LoadError) -> PKCS11Module {
        guard let resolved = realpath(path, nil) else {
            throw LoadError(description: "the module \(path) does not exist or cannot be read", code: nil)
        }
        let key = String(cString: resolved)
        free(resolved)
        return try registry.withLock { (entries) throws(LoadError) -> PKCS11Module in
            if var entry = entries[key] {
                entry.users += 1
                entries[key] = entry
                return entry.module
            }
            let module = try load(resolvedPath: key)
            entries[key] = Entry(module: module, users: 1)
            return module
        }
    }

    /// Gives back one ``acquire(path:)``; the last one finalises the module and closes the library.
    func release() {
        Self.registry.withLock { entries in
            guard var entry = entries[path] else {
                preconditionFailure("a PKCS #11 module released more often than acquired")
            }
            entry.users -= 1
            guard entry.users == 0 else {
                entries[path] = entry
                return
            }
            entries[path] = nil
            if finalizesOnRelease { _ = functions.pointee.C_Finalize?(nil) }
            dlclose(library)
        }
    }

    private static func load(resolvedPath path: String) throws(LoadError) -> PKCS11Module {
        guard let library = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "dlopen failed"
            throw LoadError(description: "the module \(path) cannot be loaded: \(reason)", code: nil)
        }
        guard let symbol = dlsym(library, "C_GetFunctionList") else {
            dlclose(library)
            throw LoadError(description: "\(path) is not a PKCS #11 module (no C_GetFunctionList)", code: nil)
        }
        let getFunctionList = unsafeBitCast(symbol, to: CK_C_GetFunctionList.self)
        var list: UnsafeMutablePointer<CK_FUNCTION_LIST>?
        let listed = getFunctionList(&list)
        guard listed == CKR_OK, let functions = list, let initialize = functions.pointee.C_Initialize else {
            dlclose(library)
            throw LoadError(
                description: "\(path): C_GetFunctionList returned \(name(ofReturnValue: listed))",
                code: listed)
        }
        var arguments = CK_C_INITIALIZE_ARGS()
        arguments.flags = CK_FLAGS(CKF_OS_LOCKING_OK)
        let initialized = withUnsafeMutablePointer(to: &arguments) { initialize(UnsafeMutableRawPointer($0)) }
        guard initialized == CKR_OK || initialized == CKR_CRYPTOKI_ALREADY_INITIALIZED else {
            dlclose(library)
            throw LoadError(
                description: "\(path): C_Initialize returned \(name(ofReturnValue: initialized))",
                code: initialized)
        }
        return PKCS11Module(
            path: path, library: library, functions: functions,
            finalizesOnRelease: initialized == CKR_OK)
    }

    /// Calls one function of the module through `body` and throws unless it returned CKR_OK.
    ///
    /// `body` returns nil when the module's list lacks the function, which counts as
    /// CKR_FUNCTION_NOT_SUPPORTED.
    func call(_ function: String, _ body: (CK_FUNCTION_LIST) -> CK_RV?) throws(Failure) {
        let code = body(functions.pointee) ?? CK_RV(CKR_FUNCTION_NOT_SUPPORTED)
        guard code == CKR_OK else { throw Failure(function: function, code: code) }
    }

    /// The slots that hold a token.
    func slotsWithToken() throws(Failure) -> [CK_SLOT_ID] {
        var count: CK_ULONG = 0
        let present = CK_BBOOL(CK_TRUE)
        try call("C_GetSlotList") { $0.C_GetSlotList?(present, nil, &count) }
        guard count > 0 else { return [] }
        guard count <= Self.maxSlotCount else {
            throw Failure(function: "C_GetSlotList", code: CK_RV(CKR_GENERAL_ERROR))
        }
        var slots = [CK_SLOT_ID](repeating: 0, count: Int(count))
        try call("C_GetSlotList") { list in
            slots.withUnsafeMutableBufferPointer { list.C_GetSlotList?(present, $0.baseAddress, &count) }
        }
        return Array(slots.prefix(Int(count)))
    }

    /// The label of the token in `slot`, without the blank padding PKCS #11 puts after it.
    func tokenLabel(slot: CK_SLOT_ID) throws(Failure) -> String {
        var info = CK_TOKEN_INFO()
        try call("C_GetTokenInfo") { $0.C_GetTokenInfo?(slot, &info) }
        let label = withUnsafeBytes(of: info.label) { Array($0) }
        var end = label.endIndex
        while end > label.startIndex, label[end - 1] == UInt8(ascii: " ") || label[end - 1] == 0 { end -= 1 }
        return String(decoding: label[..<end], as: UTF8.self)
    }

    /// The mechanisms the token in `slot` offers.
    func mechanisms(slot: CK_SLOT_ID) throws(Failure) -> Set<CK_MECHANISM_TYPE> {
        var count: CK_ULONG = 0
        try call("C_GetMechanismList") { $0.C_GetMechanismList?(slot, nil, &count) }
        guard count > 0 else { return [] }
        guard count <= Self.maxMechanismCount else {
            throw Failure(function: "C_GetMechanismList", code: CK_RV(CKR_GENERAL_ERROR))
        }
        var types = [CK_MECHANISM_TYPE](repeating: 0, count: Int(count))
        try call("C_GetMechanismList") { list in
            types.withUnsafeMutableBufferPointer { list.C_GetMechanismList?(slot, $0.baseAddress, &count) }
        }
        return Set(types.prefix(Int(count)))
    }

    /// Closes every session this process has on `slot` (which also logs the token out for this process).
    func closeAllSessions(slot: CK_SLOT_ID) throws(Failure) {
        try call("C_CloseAllSessions") { $0.C_CloseAllSessions?(slot) }
    }

    /// The name of a CKR constant, for error texts an operator can look up.
    static func name(ofReturnValue code: CK_RV) -> String {
        returnValueNames[code] ?? "CKR_0x" + String(code, radix: 16, uppercase: true)
    }

    private static let returnValueNames: [CK_RV: String] = [
        CK_RV(CKR_OK): "CKR_OK", CK_RV(CKR_CANCEL): "CKR_CANCEL", CK_RV(CKR_HOST_MEMORY): "CKR_HOST_MEMORY",
        CK_RV(CKR_SLOT_ID_INVALID): "CKR_SLOT_ID_INVALID", CK_RV(CKR_GENERAL_ERROR): "CKR_GENERAL_ERROR",
        CK_RV(CKR_FUNCTION_FAILED): "CKR_FUNCTION_FAILED", CK_RV(CKR_ARGUMENTS_BAD): "CKR_ARGUMENTS_BAD",
        CK_RV(CKR_CANT_LOCK): "CKR_CANT_LOCK", CK_RV(CKR_ATTRIBUTE_READ_ONLY): "CKR_ATTRIBUTE_READ_ONLY",
        CK_RV(CKR_ATTRIBUTE_SENSITIVE): "CKR_ATTRIBUTE_SENSITIVE",
        CK_RV(CKR_ATTRIBUTE_TYPE_INVALID): "CKR_ATTRIBUTE_TYPE_INVALID",
        CK_RV(CKR_ATTRIBUTE_VALUE_INVALID): "CKR_ATTRIBUTE_VALUE_INVALID",
        CK_RV(CKR_ACTION_PROHIBITED): "CKR_ACTION_PROHIBITED", CK_RV(CKR_DATA_INVALID): "CKR_DATA_INVALID",
        CK_RV(CKR_DATA_LEN_RANGE): "CKR_DATA_LEN_RANGE", CK_RV(CKR_DEVICE_ERROR): "CKR_DEVICE_ERROR",
        CK_RV(CKR_DEVICE_MEMORY): "CKR_DEVICE_MEMORY", CK_RV(CKR_DEVICE_REMOVED): "CKR_DEVICE_REMOVED",
        CK_RV(CKR_ENCRYPTED_DATA_INVALID): "CKR_ENCRYPTED_DATA_INVALID",
        CK_RV(CKR_ENCRYPTED_DATA_LEN_RANGE): "CKR_ENCRYPTED_DATA_LEN_RANGE",
        CK_RV(CKR_FUNCTION_CANCELED): "CKR_FUNCTION_CANCELED",
        CK_RV(CKR_FUNCTION_NOT_SUPPORTED): "CKR_FUNCTION_NOT_SUPPORTED",
        CK_RV(CKR_KEY_HANDLE_INVALID): "CKR_KEY_HANDLE_INVALID", CK_RV(CKR_KEY_SIZE_RANGE): "CKR_KEY_SIZE_RANGE",
        CK_RV(CKR_KEY_TYPE_INCONSISTENT): "CKR_KEY_TYPE_INCONSISTENT",
        CK_RV(CKR_KEY_FUNCTION_NOT_PERMITTED): "CKR_KEY_FUNCTION_NOT_PERMITTED",
        CK_RV(CKR_KEY_NOT_WRAPPABLE): "CKR_KEY_NOT_WRAPPABLE", CK_RV(CKR_KEY_UNEXTRACTABLE): "CKR_KEY_UNEXTRACTABLE",
        CK_RV(CKR_MECHANISM_INVALID): "CKR_MECHANISM_INVALID",
        CK_RV(CKR_MECHANISM_PARAM_INVALID): "CKR_MECHANISM_PARAM_INVALID",
        CK_RV(CKR_OBJECT_HANDLE_INVALID): "CKR_OBJECT_HANDLE_INVALID",
        CK_RV(CKR_OPERATION_ACTIVE): "CKR_OPERATION_ACTIVE",
        CK_RV(CKR_OPERATION_NOT_INITIALIZED): "CKR_OPERATION_NOT_INITIALIZED",
        CK_RV(CKR_PIN_INCORRECT): "CKR_PIN_INCORRECT", CK_RV(CKR_PIN_INVALID): "CKR_PIN_INVALID",
        CK_RV(CKR_PIN_LEN_RANGE): "CKR_PIN_LEN_RANGE", CK_RV(CKR_PIN_EXPIRED): "CKR_PIN_EXPIRED",
        CK_RV(CKR_PIN_LOCKED): "CKR_PIN_LOCKED", CK_RV(CKR_SESSION_CLOSED): "CKR_SESSION_CLOSED",
        CK_RV(CKR_SESSION_COUNT): "CKR_SESSION_COUNT", CK_RV(CKR_SESSION_HANDLE_INVALID): "CKR_SESSION_HANDLE_INVALID",
        CK_RV(CKR_SESSION_READ_ONLY): "CKR_SESSION_READ_ONLY",
        CK_RV(CKR_TEMPLATE_INCOMPLETE): "CKR_TEMPLATE_INCOMPLETE",
        CK_RV(CKR_TEMPLATE_INCONSISTENT): "CKR_TEMPLATE_INCONSISTENT",
        CK_RV(CKR_TOKEN_NOT_PRESENT): "CKR_TOKEN_NOT_PRESENT",
        CK_RV(CKR_TOKEN_NOT_RECOGNIZED): "CKR_TOKEN_NOT_RECOGNIZED",
        CK_RV(CKR_TOKEN_WRITE_PROTECTED): "CKR_TOKEN_WRITE_PROTECTED",
        CK_RV(CKR_UNWRAPPING_KEY_HANDLE_INVALID): "CKR_UNWRAPPING_KEY_HANDLE_INVALID",
        CK_RV(CKR_UNWRAPPING_KEY_SIZE_RANGE): "CKR_UNWRAPPING_KEY_SIZE_RANGE",
        CK_RV(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT): "CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT",
        CK_RV(CKR_USER_ALREADY_LOGGED_IN): "CKR_USER_ALREADY_LOGGED_IN",
        CK_RV(CKR_USER_NOT_LOGGED_IN): "CKR_USER_NOT_LOGGED_IN",
        CK_RV(CKR_USER_PIN_NOT_INITIALIZED): "CKR_USER_PIN_NOT_INITIALIZED",
        CK_RV(CKR_USER_TYPE_INVALID): "CKR_USER_TYPE_INVALID",
        CK_RV(CKR_USER_ANOTHER_ALREADY_LOGGED_IN): "CKR_USER_ANOTHER_ALREADY_LOGGED_IN",
        CK_RV(CKR_WRAPPED_KEY_INVALID): "CKR_WRAPPED_KEY_INVALID",
        CK_RV(CKR_WRAPPED_KEY_LEN_RANGE): "CKR_WRAPPED_KEY_LEN_RANGE",
        CK_RV(CKR_WRAPPING_KEY_HANDLE_INVALID): "CKR_WRAPPING_KEY_HANDLE_INVALID",
        CK_RV(CKR_WRAPPING_KEY_SIZE_RANGE): "CKR_WRAPPING_KEY_SIZE_RANGE",
        CK_RV(CKR_WRAPPING_KEY_TYPE_INCONSISTENT): "CKR_WRAPPING_KEY_TYPE_INCONSISTENT",
        CK_RV(CKR_BUFFER_TOO_SMALL): "CKR_BUFFER_TOO_SMALL",
        CK_RV(CKR_CRYPTOKI_NOT_INITIALIZED): "CKR_CRYPTOKI_NOT_INITIALIZED",
        CK_RV(CKR_CRYPTOKI_ALREADY_INITIALIZED): "CKR_CRYPTOKI_ALREADY_INITIALIZED",
        CK_RV(CKR_FUNCTION_REJECTED): "CKR_FUNCTION_REJECTED",
    ]
}
