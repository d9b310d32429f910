/*
 * libdecodealign.so: the C ABI of decodealign.h over DecodeAlign's managed code, reached by hosting the .NET runtime
 * (nethost finds hostfxr; hostfxr starts the runtime from the managed assembly's runtimeconfig.json and hands out
 * pointers to its [UnmanagedCallersOnly] methods). See native/README.md for why hosting rather than NativeAOT.
 *
 * Memory: everything a caller receives is allocated here, in C, after the managed call that produced it returned;
 * the managed side only fills buffers it is given. So a leak checker attributes every allocation the caller owns to
 * this file, apart from the runtime's own.
 */
#define _GNU_SOURCE
#include "decodealign.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coreclr_delegates.h>
#include <hostfxr.h>
#include <nethost.h>

#define DA_ERROR_CAPACITY 2048
#define DA_BUNDLE_MAGIC 0x4441424eu /* "DABN": catches results or garbage passed as bundles */
#define DA_RESULT_MAGIC 0x44415253u /* "DARS" */

/* Fixed-size, so a thread's error needs no allocation and nothing to free when the thread ends. */
static __thread char tls_error[DA_ERROR_CAPACITY];

/* Layout shared with DecodeAlign.Native.ResultInfo. */
typedef struct {
    intptr_t handle;
    int32_t text_bytes;
    int32_t token_count;
    int32_t finish;
    int32_t has_reward;
    double reward;
} da_result_info;

struct da_bundle {
    uint32_t magic;
    intptr_t handle; /* GCHandle of DecodeAlign.Native.Bundle */
};

struct da_result {
    uint32_t magic;
    char* text;
    size_t text_length;
    int32_t* tokens;
    size_t token_count;
    int finish;
    int has_reward;
    double reward;
};

/* The managed entry points (DecodeAlign.Native.Exports). */
typedef int (*bundle_load_fn)(const char* config, const char* library_dir, intptr_t* out, char* error, int capacity);
typedef int (*bundle_handle_fn)(intptr_t bundle, char* error, int capacity);
typedef int (*generate_fn)(intptr_t bundle, const char* prompt, const char* options, da_token_callback callback, void* user,
                           da_result_info* info, char* error, int capacity);
typedef int (*result_copy_fn)(intptr_t result, char* text, int32_t* tokens);

static struct {
    bundle_load_fn bundle_load;
    bundle_handle_fn bundle_free;
    bundle_handle_fn cancel;
    generate_fn generate;
    result_copy_fn result_copy;
} managed;

static pthread_once_t runtime_once = PTHREAD_ONCE_INIT;
static int runtime_status = DA_ERR_RUNTIME;
static char runtime_error[DA_ERROR_CAPACITY];
static char library_dir[PATH_MAX];

static int set_error(int status, const char* format, ...) __attribute__((format(printf, 2, 3)));

static int set_error(int status, const char* format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(tls_error, sizeof tls_error, format, args);
    va_end(args);
    return status;
}

/* hostfxr reports why it failed through this writer (per thread) instead of stderr. */
static void hostfxr_error_writer(const char_t* message) {
    size_t used = strlen(runtime_error);
    if (used + 2 < sizeof runtime_error)
        snprintf(runtime_error + used, sizeof runtime_error - used, "%s%s", used ? "; " : "", message);
}

static void start_runtime(void) {
    Dl_info self;
    if (dladdr((void*)&da_bundle_load, &self) == 0 || self.dli_fname == NULL) {
        snprintf(runtime_error, sizeof runtime_error, "cannot find the path of libdecodealign.so (dladdr failed)");
        return;
    }
    char* resolved = realpath(self.dli_fname, NULL);
    snprintf(library_dir, sizeof library_dir, "%s", resolved ? resolved : self.dli_fname);
    free(resolved);
    char* slash = strrchr(library_dir, '/');
    if (slash) *slash = '\0';
    else snprintf(library_dir, sizeof library_dir, ".");

    char managed_dir[PATH_MAX], assembly[PATH_MAX], runtime_config[PATH_MAX];
    const char* env = getenv("DECODEALIGN_MANAGED_DIR");
    snprintf(managed_dir, sizeof managed_dir, "%s", env && *env ? env : library_dir);
    if (!(env && *env)) strncat(managed_dir, "/managed", sizeof managed_dir - strlen(managed_dir) - 1);
    snprintf(assembly, sizeof assembly, "%s/DecodeAlign.Native.dll", managed_dir);
    snprintf(runtime_config, sizeof runtime_config, "%s/DecodeAlign.Native.runtimeconfig.json", managed_dir);

    char_t fxr_path[PATH_MAX];
    size_t fxr_size = sizeof fxr_path / sizeof(char_t);
    struct get_hostfxr_parameters parameters = {sizeof parameters, assembly, NULL};
    int rc = get_hostfxr_path(fxr_path, &fxr_size, &parameters);
    if (rc != 0) {
        snprintf(runtime_error, sizeof runtime_error,
                 "no .NET runtime found (get_hostfxr_path failed with 0x%x); install .NET 10 or set DOTNET_ROOT", (unsigned)rc);
        return;
    }
    /* Never unloaded: the runtime cannot be shut down and started again in one process. */
    void* fxr = dlopen(fxr_path, RTLD_NOW | RTLD_LOCAL);
    if (!fxr) {
        snprintf(runtime_error, sizeof runtime_error, "cannot load %s: %s", fxr_path, dlerror());
        return;
    }
    hostfxr_initialize_for_runtime_config_fn init =
        (hostfxr_initialize_for_runtime_config_fn)dlsym(fxr, "hostfxr_initialize_for_runtime_config");
    hostfxr_get_runtime_delegate_fn get_delegate = (hostfxr_get_runtime_delegate_fn)dlsym(fxr, "hostfxr_get_runtime_delegate");
    hostfxr_close_fn close_context = (hostfxr_close_fn)dlsym(fxr, "hostfxr_close");
    hostfxr_set_error_writer_fn set_writer = (hostfxr_set_error_writer_fn)dlsym(fxr, "hostfxr_set_error_writer");
    if (!init || !get_delegate || !close_context || !set_writer) {
        snprintf(runtime_error, sizeof runtime_error, "%s lacks the hosting functions (too old a .NET?)", fxr_path);
        return;
    }

    set_writer(hostfxr_error_writer);
    hostfxr_handle context = NULL;
    rc = init(runtime_config, NULL, &context);
    /* 1 and 2 (Success_HostAlreadyInitialized, Success_DifferentRuntimeProperties): a runtime already runs in this process. */
    if ((rc != 0 && rc != 1 && rc != 2) || context == NULL) {
        char detail[DA_ERROR_CAPACITY];
        snprintf(detail, sizeof detail, "%s", runtime_error);
        snprintf(runtime_error, sizeof runtime_error, "cannot start the .NET runtime from %s (hostfxr 0x%x)%s%s", runtime_config,
                 (unsigned)rc, detail[0] ? ": " : "", detail);
        if (context) close_context(context);
        set_writer(NULL);
        return;
    }
    load_assembly_and_get_function_pointer_fn load = NULL;
    rc = get_delegate(context, hdt_load_assembly_and_get_function_pointer, (void**)&load);
    close_context(context);
    set_writer(NULL);
    if (rc != 0 || load == NULL) {
        snprintf(runtime_error, sizeof runtime_error, "hostfxr_get_runtime_delegate failed (0x%x)", (unsigned)rc);
        return;
    }

    static const char type[] = "DecodeAlign.Native.Exports, DecodeAlign.Native";
    struct {
        const char* name;
        void** slot;
    } exports[] = {
        {"BundleLoad", (void**)&managed.bundle_load}, {"BundleFree", (void**)&managed.bundle_free},
        {"Cancel", (void**)&managed.cancel},          {"Generate", (void**)&managed.generate},
        {"ResultCopy", (void**)&managed.result_copy},
    };
    for (size_t i = 0; i < sizeof exports / sizeof exports[0]; i++) {
        rc = load(assembly, type, exports[i].name, UNMANAGEDCALLERSONLY_METHOD, NULL, exports[i].slot);
        if (rc != 0 || *exports[i].slot == NULL) {
            snprintf(runtime_error, sizeof runtime_error, "cannot bind %s.%s in %s (0x%x)", type, exports[i].name, assembly, (unsigned)rc);
            return;
        }
    }
    runtime_status = DA_OK;
}

static int ensure_runtime(void) {
    pthread_once(&runtime_once, start_runtime);
    if (runtime_status != DA_OK) return set_error(runtime_status, "%s", runtime_error);
    return DA_OK;
}

static int check_bundle(const da_bundle* bundle) {
    if (bundle == NULL) return set_error(DA_ERR_INVALID_ARGUMENT, "bundle must not be NULL");
    if (bundle->magic != DA_BUNDLE_MAGIC) return set_error(DA_ERR_INVALID_ARGUMENT, "not a live da_bundle (freed, or another object)");
    return DA_OK;
}

static int check_result(const da_result* result) {
    if (result == NULL) return set_error(DA_ERR_INVALID_ARGUMENT, "result must not be NULL");
    if (result->magic != DA_RESULT_MAGIC) return set_error(DA_ERR_INVALID_ARGUMENT, "not a live da_result (freed, or another object)");
    return DA_OK;
}

int da_bundle_load(const char* config_json, da_bundle** out) {
    if (out == NULL) return set_error(DA_ERR_INVALID_ARGUMENT, "out must not be NULL");
    int rc = ensure_runtime();
    if (rc != DA_OK) return rc;
    da_bundle* bundle = malloc(sizeof *bundle);
    if (bundle == NULL) return set_error(DA_ERR_OUT_OF_MEMORY, "out of memory");
    rc = managed.bundle_load(config_json, library_dir, &bundle->handle, tls_error, sizeof tls_error);
    if (rc != DA_OK) {
        free(bundle);
        return rc;
    }
    bundle->magic = DA_BUNDLE_MAGIC;
    *out = bundle;
    return DA_OK;
}

int da_bundle_free(da_bundle* bundle) {
    if (bundle == NULL) return DA_OK;
    int rc = check_bundle(bundle);
    if (rc != DA_OK) return rc;
    rc = managed.bundle_free(bundle->handle, tls_error, sizeof tls_error);
    bundle->magic = 0;
    free(bundle);
    return rc;
}

int da_cancel(da_bundle* bundle) {
    int rc = check_bundle(bundle);
    return rc != DA_OK ? rc : managed.cancel(bundle->handle, tls_error, sizeof tls_error);
}

int da_generate(da_bundle* bundle, const char* prompt, const char* options_json, da_token_callback callback, void* user,
                da_result** out) {
    int rc = check_bundle(bundle);
    if (rc != DA_OK) return rc;
    if (out == NULL) return set_error(DA_ERR_INVALID_ARGUMENT, "out must not be NULL");
    da_result_info info = {0};
    rc = managed.generate(bundle->handle, prompt, options_json, callback, user, &info, tls_error, sizeof tls_error);
    if (rc != DA_OK) return rc;

    da_result* result = calloc(1, sizeof *result);
    char* text = malloc((size_t)info.text_bytes + 1);
    int32_t* tokens = malloc(((size_t)info.token_count + 1) * sizeof *tokens); /* +1: never malloc(0) */
    if (result == NULL || text == NULL || tokens == NULL) {
        managed.result_copy(info.handle, NULL, NULL); /* frees the managed result */
        free(result);
        free(text);
        free(tokens);
        return set_error(DA_ERR_OUT_OF_MEMORY, "out of memory copying a result of %d bytes", info.text_bytes);
    }
    rc = managed.result_copy(info.handle, text, tokens);
    if (rc != DA_OK) {
        free(result);
        free(text);
        free(tokens);
        return set_error(rc, "could not copy the result out of the managed side (status %d)", rc);
    }
    text[info.text_bytes] = '\0';
    result->magic = DA_RESULT_MAGIC;
    result->text = text;
    result->text_length = (size_t)info.text_bytes;
    result->tokens = tokens;
    result->token_count = (size_t)info.token_count;
    result->finish = info.finish;
    result->has_reward = info.has_reward;
    result->reward = info.reward;
    *out = result;
    return DA_OK;
}

int da_result_text(const da_result* result, const char** text, size_t* length) {
    int rc = check_result(result);
    if (rc != DA_OK) return rc;
    if (text == NULL) return set_error(DA_ERR_INVALID_ARGUMENT, "text must not be NULL");
    *text = result->text;
    if (length) *length = result->text_length;
    return DA_OK;
}

int da_result_token_count(const da_result* result, size_t* count) {
    int rc = check_result(result);
    if (rc != DA_OK) return rc;
    if (count == NULL) return set_error(DA_ERR_INVALID_ARGUMENT, "count must not be NULL");
    *count = result->token_count;
    return DA_OK;
}

int da_result_tokens(const da_result* result, const int32_t** tokens) {
    int rc = check_result(result);
    if (rc != DA_OK) return rc;
    if (tokens == NULL) return set_error(DA_ERR_INVALID_ARGUMENT, "tokens must not be NULL");
    *tokens = result->tokens;
    return DA_OK;
}

int da_result_finish_reason(const da_result* result, int* reason, const char** name) {
    static const char* const names[] = {"eos", "stop", "max_tokens", "context_length", "cancelled", "pruned"};
    int rc = check_result(result);
    if (rc != DA_OK) return rc;
    if (reason == NULL && name == NULL) return set_error(DA_ERR_INVALID_ARGUMENT, "reason and name must not both be NULL");
    if (reason) *reason = result->finish;
    if (name) *name = result->finish >= 0 && result->finish < (int)(sizeof names / sizeof names[0]) ? names[result->finish] : "unknown";
    return DA_OK;
}

int da_result_reward(const da_result* result, double* reward, int* has_reward) {
    int rc = check_result(result);
    if (rc != DA_OK) return rc;
    if (reward == NULL || has_reward == NULL) return set_error(DA_ERR_INVALID_ARGUMENT, "reward and has_reward must not be NULL");
    *has_reward = result->has_reward;
    *reward = result->has_reward ? result->reward : 0.0;
    return DA_OK;
}

int da_result_free(da_result* result) {
    if (result == NULL) return DA_OK;
    int rc = check_result(result);
    if (rc != DA_OK) return rc;
    result->magic = 0;
    free(result->text);
    free(result->tokens);
    free(result);
    return DA_OK;
}

const char* da_last_error(void) { return tls_error; }
