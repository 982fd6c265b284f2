#ifndef ELASTICKV_CZSTD_SHIM_H
#define ELASTICKV_CZSTD_SHIM_H
#include <zstd.h>
#endif
