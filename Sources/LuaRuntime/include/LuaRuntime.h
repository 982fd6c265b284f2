// The C side of elastickv's Lua 5.1 script runtime: one sandboxed interpreter per script run, with a
// memory limit, an instruction budget, a kill switch and the host functions (redis.call …) that reach back
// into Swift. Everything that can raise a Lua error (a longjmp) happens here, in C: the Swift host callback
// only reads and pushes values and returns a status, so no longjmp ever crosses a Swift frame.
#ifndef ELASTICKV_LUA_RUNTIME_H
#define ELASTICKV_LUA_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lua_State lua_State;
typedef struct ekv_script ekv_script;

/// The host operations the `redis` table's C functions forward to the host callback.
enum ekv_host_op {
    EKV_HOST_CALL = 1,              // redis.call(...)
    EKV_HOST_PCALL = 2,             // redis.pcall(...)
    EKV_HOST_SHA1HEX = 3,           // redis.sha1hex(s)
    EKV_HOST_LOG = 4,               // redis.log(level, ...)
    EKV_HOST_SETRESP = 5,           // redis.setresp(2|3)
    EKV_HOST_REGISTER_FUNCTION = 6, // redis.register_function(...) while a library loads
    EKV_HOST_ACL_CHECK = 7,         // redis.acl_check_cmd(name, ...)
};

/// What `redis.REDIS_VERSION` and `redis.REDIS_VERSION_NUM` report (the version HELLO and INFO report).
#define EKV_REDIS_VERSION "7.2.0"
#define EKV_REDIS_VERSION_NUM 0x070200

/// The host callback: runs `op` with the Lua function's arguments on the stack of `L`. It returns the number
/// of results it pushed, or -1 after pushing one error value, which the C side then raises. It must not
/// call any Lua API function that can raise an error (only raw accesses, pushes, conversions of strings and
/// numbers): allocations never fail while it runs (see ekv_script_new).
typedef int (*ekv_host_callback)(void *host, lua_State *L, int op);

/// A new sandboxed interpreter: the base library without file access, printing or environments, and the
/// string, table and math libraries (math.random on a rand48 generator seeded with `seed`), cjson, bit,
/// struct and cmsgpack; a `redis` table whose host functions call `callback`; Lua's pcall returning the
/// message of an error table (`{err = ...}`) as a string, as Redis does; and the globals protected (reading
/// an unknown global or creating one is an error). `memory_limit` bounds what Lua code allocates (0: no
/// limit); an allocation beyond it fails with Lua's memory error, except while the host callback runs (its
/// excess is reported after it returns). Returns NULL when the interpreter cannot be created.
ekv_script *ekv_script_new(size_t memory_limit, uint32_t seed, ekv_host_callback callback, void *host);
void ekv_script_free(ekv_script *script);
lua_State *ekv_script_state(ekv_script *script);

/// Stops the script after about `instructions` more Lua VM instructions (counted in steps of 1000): the
/// running code gets an error "ERR Script exceeded the instruction budget". 0 removes the budget.
void ekv_script_set_budget(ekv_script *script, uint64_t instructions);
/// Asks the running script to stop at its next step (safe from any thread): it gets the error
/// "ERR Script killed by user with SCRIPT KILL...".
void ekv_script_kill(ekv_script *script);
/// Whether the budget ran out or a kill stopped the script.
int ekv_script_stopped(ekv_script *script);

/// Compiles `code` with the chunk name `chunk_name` (e.g. "@user_script") and leaves the function on the
/// stack (0), or leaves the compiler's message on the stack (non-zero).
int ekv_script_load(ekv_script *script, const char *code, size_t length, const char *chunk_name);

/// Calls the function below `nargs` arguments on the stack in protected mode with elastickv's message
/// handler, leaving `nresults` results (0), or an error value (non-zero). After an error,
/// ekv_script_error_line() and ekv_script_error_source() name the first Lua frame at the point of the error.
int ekv_script_pcall(ekv_script *script, int nargs, int nresults);
int ekv_script_error_line(ekv_script *script);
/// The chunk name of that frame ("@user_script"); empty when no Lua frame was found.
const char *ekv_script_error_source(ekv_script *script);

/// Pushes a C function that forwards to the host callback with `op` (e.g. redis.register_function for a
/// library's load environment).
void ekv_script_push_host_function(ekv_script *script, int op);

/// Sets global `name` to the table at the top of the stack (popped), bypassing the globals protection.
void ekv_script_set_global(ekv_script *script, const char *name);

#ifdef __cplusplus
}
#endif

#endif
