// See include/LuaRuntime.h. Lua errors are longjmps: they are raised only from the C functions in this
// file (and from Lua's own code), never while a Swift frame is on the stack.
#include "LuaRuntime.h"
#include "LuaRuntimeLibraries.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

int luaopen_cjson(lua_State *L);
int luaopen_bit(lua_State *L);

/// Instructions between two runs of the count hook.
#define EKV_HOOK_STEP 1000

struct ekv_script {
    lua_State *L;
    size_t used;
    size_t limit;
    int in_host;
    uint64_t steps_left; // 0: no budget
    atomic_int kill;
    int stopped;         // 1: budget, 2: killed, 3: the host aborted
    uint64_t rand48;
    ekv_host_callback callback;
    void *host;
    int error_line;
    char error_source[64];
};

static void *ekv_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    ekv_script *script = ud;
    if (nsize == 0) {
        free(ptr);
        script->used -= osize;
        return NULL;
    }
    if (nsize > osize && script->limit != 0 && !script->in_host && script->used - osize + nsize > script->limit) {
        return NULL;
    }
    void *grown = realloc(ptr, nsize);
    if (grown == NULL) return NULL;
    script->used = script->used - osize + nsize;
    return grown;
}

static ekv_script *ekv_owner(lua_State *L) {
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

static const char *ekv_stop_message(int stopped) {
    switch (stopped) {
    case 1: return "ERR Script exceeded the instruction budget";
    case 2: return "ERR Script killed by user with SCRIPT KILL...";
    default: return "ERR Script aborted by the server";
    }
}

static int ekv_raise_stop(lua_State *L, ekv_script *script) {
    // Fire the hook at every instruction from now on, so a pcall in a loop cannot keep the script alive.
    lua_sethook(L, NULL, 0, 0);
    lua_pushstring(L, ekv_stop_message(script->stopped));
    return lua_error(L);
}

static void ekv_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    ekv_script *script = ekv_owner(L);
    if (script->stopped == 0 && atomic_load_explicit(&script->kill, memory_order_relaxed)) script->stopped = 2;
    if (script->stopped == 0 && script->steps_left != 0 && --script->steps_left == 0) script->stopped = 1;
    if (script->stopped != 0) {
        lua_sethook(L, ekv_hook, LUA_MASKCOUNT, 1);
        lua_pushstring(L, ekv_stop_message(script->stopped));
        lua_error(L);
    }
}

// ---- host functions ---------------------------------------------------------------------------------------

static int ekv_host_trampoline(lua_State *L) {
    ekv_script *script = lua_touserdata(L, lua_upvalueindex(1));
    int op = (int)lua_tointeger(L, lua_upvalueindex(2));
    if (script->stopped != 0) return ekv_raise_stop(L, script);
    script->in_host = 1;
    int results = script->callback(script->host, L, op);
    script->in_host = 0;
    if (results == -2) {
        script->stopped = 3;
        return ekv_raise_stop(L, script);
    }
    if (script->limit != 0 && script->used > script->limit) {
        lua_pushliteral(L, "not enough memory");
        return lua_error(L);
    }
    if (results < 0) return lua_error(L);
    return results;
}

static void ekv_push_host_function(lua_State *L, ekv_script *script, int op) {
    lua_pushlightuserdata(L, script);
    lua_pushinteger(L, op);
    lua_pushcclosure(L, ekv_host_trampoline, 2);
}

// ---- math.random on rand48, as Redis's scripts have it ----------------------------------------------------

static int32_t ekv_rand48_next(ekv_script *script) {
    script->rand48 = (0x5DEECE66DULL * script->rand48 + 0xB) & ((1ULL << 48) - 1);
    return (int32_t)(script->rand48 >> 17);
}

static void ekv_rand48_seed(ekv_script *script, int32_t seed) {
    script->rand48 = ((uint64_t)(uint32_t)seed << 16) | 0x330E;
}

static int ekv_math_random(lua_State *L) {
    ekv_script *script = ekv_owner(L);
    const double range = 2147483647.0;
    double r = (double)(ekv_rand48_next(script) % 2147483647) / range;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, r);
        break;
    case 1: {
        int upper = luaL_checkint(L, 1);
        luaL_argcheck(L, 1 <= upper, 1, "interval is empty");
        lua_pushnumber(L, floor(r * upper) + 1);
        break;
    }
    case 2: {
        int lower = luaL_checkint(L, 1);
        int upper = luaL_checkint(L, 2);
        luaL_argcheck(L, lower <= upper, 2, "interval is empty");
        lua_pushnumber(L, floor(r * (upper - lower + 1)) + lower);
        break;
    }
    default:
        return luaL_error(L, "wrong number of arguments");
    }
    return 1;
}

static int ekv_math_randomseed(lua_State *L) {
    ekv_rand48_seed(ekv_owner(L), (int32_t)luaL_checkint(L, 1));
    return 0;
}

// ---- pcall that turns an error table's `err` into a string, and the message handler -----------------------

static int ekv_pcall(lua_State *L) {
    luaL_checkany(L, 1);
    int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    ekv_script *script = ekv_owner(L);
    if (script->stopped != 0) return ekv_raise_stop(L, script);
    if (status != 0 && lua_type(L, -1) == LUA_TTABLE) {
        lua_pushliteral(L, "err");
        lua_rawget(L, -2);
        if (lua_type(L, -1) == LUA_TSTRING) {
            lua_replace(L, -2);
        } else {
            lua_pop(L, 1);
        }
    }
    lua_pushboolean(L, status == 0);
    lua_insert(L, 1);
    return lua_gettop(L);
}

static int ekv_message_handler(lua_State *L) {
    ekv_script *script = ekv_owner(L);
    lua_Debug frame;
    script->error_line = -1;
    script->error_source[0] = '\0';
    for (int level = 1; lua_getstack(L, level, &frame); level++) {
        if (!lua_getinfo(L, "Sl", &frame)) break;
        if (frame.source != NULL && frame.source[0] == '@' && frame.currentline > 0) {
            script->error_line = frame.currentline;
            strncpy(script->error_source, frame.source, sizeof(script->error_source) - 1);
            script->error_source[sizeof(script->error_source) - 1] = '\0';
            break;
        }
    }
    return 1;
}

// ---- redis.set_repl: accepted and checked, as replication here is always the whole script entry ----------

static int ekv_raise_error_table(lua_State *L, const char *message) {
    lua_newtable(L);
    lua_pushliteral(L, "err");
    lua_pushstring(L, message);
    lua_rawset(L, -3);
    return lua_error(L);
}

static int ekv_set_repl(lua_State *L) {
    if (lua_gettop(L) != 1) return ekv_raise_error_table(L, "ERR redis.set_repl() requires two arguments.");
    lua_Number flags = lua_tonumber(L, 1);
    if (!lua_isnumber(L, 1) || flags < 0 || flags > 3 || flags != (lua_Number)(int)flags) {
        return ekv_raise_error_table(L, "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
    }
    return 0;
}

// ---- the sandbox ------------------------------------------------------------------------------------------

static const char *const ekv_prelude =
    "local redis = ...\n"
    "local type, select, string = type, select, string\n"
    "redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3\n"
    "redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3\n"
    "local bad = 'ERR wrong number or type of arguments'\n"
    "function redis.error_reply(message, ...)\n"
    "  if select('#', ...) ~= 0 or type(message) ~= 'string' then return {err = bad} end\n"
    "  if string.sub(message, 1, 1) == '-' then message = string.sub(message, 2) end\n"
    "  if not string.find(message, ' ', 1, true) then message = 'ERR ' .. message end\n"
    "  return {err = message}\n"
    "end\n"
    "function redis.status_reply(message, ...)\n"
    "  if select('#', ...) ~= 0 or type(message) ~= 'string' then return {err = bad} end\n"
    "  return {ok = message}\n"
    "end\n"
    "function redis.replicate_commands() return true end\n"
    "function redis.breakpoint() return false end\n"
    "function redis.debug() end\n";

static const char *const ekv_protection =
    "local mt = {}\n"
    "mt.__index = function(_, name)\n"
    "  error(\"Script attempted to access nonexistent global variable '\" .. tostring(name) .. \"'\", 2)\n"
    "end\n"
    "mt.__newindex = function() error('Attempt to modify a readonly table', 2) end\n"
    "mt.__metatable = false\n"
    "setmetatable(_G, mt)\n";

/// Opens a library; a library that returns its table without setting a global (Debian's lua-cjson)
/// gets the global `global`.
static void ekv_open(lua_State *L, lua_CFunction open, const char *name, const char *global) {
    lua_pushcfunction(L, open);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (global != NULL && lua_type(L, -1) == LUA_TTABLE) {
        lua_setglobal(L, global);
    } else {
        lua_pop(L, 1);
    }
}

static void ekv_clear_global(lua_State *L, const char *name) {
    lua_pushnil(L);
    lua_setfield(L, LUA_GLOBALSINDEX, name);
}

static int ekv_setup(lua_State *L) {
    ekv_script *script = lua_touserdata(L, 1);
    ekv_open(L, luaopen_base, "", NULL);
    ekv_open(L, luaopen_table, LUA_TABLIBNAME, NULL);
    ekv_open(L, luaopen_string, LUA_STRLIBNAME, NULL);
    ekv_open(L, luaopen_math, LUA_MATHLIBNAME, NULL);
    ekv_open(L, luaopen_cjson, "cjson", "cjson");
    ekv_open(L, luaopen_bit, "bit", "bit");
    lua_pushcfunction(L, ekv_open_struct);
    lua_call(L, 0, 0);
    lua_pushcfunction(L, ekv_open_cmsgpack);
    lua_call(L, 0, 0);
    lua_settop(L, 1);
    const char *removed[] = {"dofile", "loadfile", "print", "getfenv", "setfenv", "newproxy", "module", "require",
                             "package", NULL};
    for (int i = 0; removed[i] != NULL; i++) ekv_clear_global(L, removed[i]);

    lua_getglobal(L, LUA_MATHLIBNAME);
    lua_pushcfunction(L, ekv_math_random);
    lua_setfield(L, -2, "random");
    lua_pushcfunction(L, ekv_math_randomseed);
    lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);
    lua_pushcfunction(L, ekv_pcall);
    lua_setglobal(L, "pcall");
    lua_pushcfunction(L, ekv_message_handler);
    lua_setglobal(L, "__redis__err__handler");

    lua_newtable(L);
    ekv_push_host_function(L, script, EKV_HOST_CALL);
    lua_setfield(L, -2, "call");
    ekv_push_host_function(L, script, EKV_HOST_PCALL);
    lua_setfield(L, -2, "pcall");
    ekv_push_host_function(L, script, EKV_HOST_SHA1HEX);
    lua_setfield(L, -2, "sha1hex");
    ekv_push_host_function(L, script, EKV_HOST_LOG);
    lua_setfield(L, -2, "log");
    ekv_push_host_function(L, script, EKV_HOST_SETRESP);
    lua_setfield(L, -2, "setresp");
    ekv_push_host_function(L, script, EKV_HOST_ACL_CHECK);
    lua_setfield(L, -2, "acl_check_cmd");
    lua_pushcfunction(L, ekv_set_repl);
    lua_setfield(L, -2, "set_repl");
    lua_pushliteral(L, EKV_REDIS_VERSION);
    lua_setfield(L, -2, "REDIS_VERSION");
    lua_pushinteger(L, EKV_REDIS_VERSION_NUM);
    lua_setfield(L, -2, "REDIS_VERSION_NUM");
    lua_pushvalue(L, -1);
    lua_setglobal(L, "redis");
    if (luaL_loadbuffer(L, ekv_prelude, strlen(ekv_prelude), "=prelude") != 0) return lua_error(L);
    lua_insert(L, -2);
    lua_call(L, 1, 0);
    if (luaL_loadbuffer(L, ekv_protection, strlen(ekv_protection), "=protection") != 0) return lua_error(L);
    lua_call(L, 0, 0);
    return 0;
}

ekv_script *ekv_script_new(size_t memory_limit, uint32_t seed, ekv_host_callback callback, void *host) {
    ekv_script *script = calloc(1, sizeof(ekv_script));
    if (script == NULL) return NULL;
    script->callback = callback;
    script->host = host;
    atomic_init(&script->kill, 0);
    ekv_rand48_seed(script, (int32_t)seed);
    script->L = lua_newstate(ekv_alloc, script);
    if (script->L == NULL) {
        free(script);
        return NULL;
    }
    // The sandbox is built without a limit, so the limit bounds only what the script itself allocates.
    if (lua_cpcall(script->L, ekv_setup, script) != 0) {
        ekv_script_free(script);
        return NULL;
    }
    script->limit = memory_limit == 0 ? 0 : script->used + memory_limit;
    return script;
}

void ekv_script_free(ekv_script *script) {
    if (script == NULL) return;
    if (script->L != NULL) lua_close(script->L);
    free(script);
}

lua_State *ekv_script_state(ekv_script *script) { return script->L; }

void ekv_script_set_budget(ekv_script *script, uint64_t instructions) {
    script->steps_left = instructions == 0 ? 0 : (instructions + EKV_HOOK_STEP - 1) / EKV_HOOK_STEP;
    lua_sethook(script->L, ekv_hook, LUA_MASKCOUNT, EKV_HOOK_STEP);
}

void ekv_script_kill(ekv_script *script) { atomic_store_explicit(&script->kill, 1, memory_order_relaxed); }

int ekv_script_stopped(ekv_script *script) { return script->stopped; }

int ekv_script_load(ekv_script *script, const char *code, size_t length, const char *chunk_name) {
    return luaL_loadbuffer(script->L, code, length, chunk_name);
}

int ekv_script_pcall(ekv_script *script, int nargs, int nresults) {
    lua_State *L = script->L;
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, ekv_message_handler);
    lua_insert(L, base);
    script->error_line = -1;
    script->error_source[0] = '\0';
    int status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    return status;
}

int ekv_script_error_line(ekv_script *script) { return script->error_line; }

const char *ekv_script_error_source(ekv_script *script) { return script->error_source; }

static int ekv_set_global_raw(lua_State *L) {
    // 1: the table, 2: the name
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 1);
    lua_rawset(L, LUA_GLOBALSINDEX);
    return 0;
}

void ekv_script_set_global(ekv_script *script, const char *name) {
    lua_State *L = script->L;
    lua_pushcfunction(L, ekv_set_global_raw);
    lua_insert(L, -2);
    lua_pushstring(L, name);
    lua_call(L, 2, 0);
}

void ekv_script_push_host_function(ekv_script *script, int op) { ekv_push_host_function(script->L, script, op); }
