#ifndef ELASTICKV_CLIBCRYPTO_SHIM_H
#define ELASTICKV_CLIBCRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#endif
