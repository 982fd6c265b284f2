#ifndef ELASTICKV_CPKCS11_SHIM_H
#define ELASTICKV_CPKCS11_SHIM_H
// The PKCS #11 types, constants and function list, from Debian's libp11-kit-dev, and no library: a provider
// loads the token's module with dlopen and reaches it through C_GetFunctionList (KEKProviders/PKCS11Module.swift).
// The header is named by its path under /usr/include rather than through pkg-config's p11-kit-1, whose flags
// would also link libp11-kit into every binary.
#include <p11-kit-1/p11-kit/pkcs11.h>
#endif
