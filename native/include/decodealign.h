/*
 * decodealign.h: the C ABI of DecodeAlign (libdecodealign.so).
 *
 * The library hosts the .NET runtime (hostfxr) and runs DecodeAlign's managed code in it; see native/README.md.
 * The runtime starts on the first da_bundle_load of the process and stays until the process exits (.NET cannot
 * unload it). It needs a .NET 10 runtime (found like `dotnet`: DOTNET_ROOT, else the global install) and the managed
 * assembly folder: $DECODEALIGN_MANAGED_DIR, else the folder `managed` beside libdecodealign.so.
 *
 * Conventions
 *  - Every function returns an int status: DA_OK (0) or a DA_ERR_* code; the only exception is da_last_error.
 *    After a failure, da_last_error() describes it on the failing thread. Outputs are written only on success.
 *  - Strings are UTF-8 and NUL-terminated. JSON arguments may be NULL or "" for "all defaults".
 *  - Everything the library returns is freed by the library's own functions (da_result_free, da_bundle_free).
 *  - Threads: any function may be called from any thread. Generations on one bundle run one at a time (a second
 *    da_generate waits for the first); use one bundle per thread for parallel generation. da_cancel is the call meant
 *    for another thread. da_bundle_free must not race with other calls on the same bundle.
 */
#ifndef DECODEALIGN_H
#define DECODEALIGN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define DA_API __attribute__((visibility("default")))
#else
#define DA_API
#endif

/* Status codes. */
#define DA_OK 0
#define DA_ERR_INVALID_ARGUMENT 1 /* a NULL pointer where one is required, or a freed/foreign handle */
#define DA_ERR_JSON 2             /* config or options are not valid JSON, or not a JSON object */
#define DA_ERR_OPTION 3           /* a key is unknown or has a wrong type or value; a needed model is not configured */
#define DA_ERR_UNKNOWN_STRATEGY 4 /* "strategy" names no strategy in the catalog */
#define DA_ERR_MODEL 5            /* a model could not be found, loaded or run (includes prompts over the context length) */
#define DA_ERR_RUNTIME 6          /* the .NET runtime or the managed assembly could not be loaded */
#define DA_ERR_OUT_OF_MEMORY 7
#define DA_ERR_INTERNAL 8         /* an unexpected failure; da_last_error says what */

/* Why a response ended (da_result_finish_reason). */
#define DA_FINISH_EOS 0            /* the model produced end-of-sequence */
#define DA_FINISH_STOP 1           /* a stop string was reached (it is not part of the text) */
#define DA_FINISH_MAX_TOKENS 2     /* max_new_tokens was reached */
#define DA_FINISH_CONTEXT_LENGTH 3 /* the model's context is full */
#define DA_FINISH_CANCELLED 4      /* da_cancel or the callback stopped it; the text is what was final until then */
#define DA_FINISH_PRUNED 5         /* early pruning stopped the candidate */

/* A loaded LM with its potentials (reward, value model, baseline policy), kernels and tokenizer. */
typedef struct da_bundle da_bundle;

/* One generated response. */
typedef struct da_result da_result;

/*
 * Receives text as it becomes final: `text` is NUL-terminated, `length` bytes long, valid only during the call.
 * Streaming strategies (greedy, sample, args, vas, tqstar) call it as they go; the others once, with the chosen
 * text, at the end. It may run on a thread other than the caller's. Return 0 to go on; any other value cancels
 * this generation (finish reason DA_FINISH_CANCELLED). It must not call da_bundle_free or da_generate on the same
 * bundle; it may call da_cancel.
 */
typedef int (*da_token_callback)(const char* text, size_t length, void* user);

/*
 * Loads a bundle. config_json keys (all optional):
 *   "model":    LM folder (model.onnx + tokenizer.json); default: the built-in models/arith/lm, searched upwards from
 *               libdecodealign.so, from the managed assembly and from the working directory.
 *   "reward":   comma-separated name[=weight] terms summed as Σ w·R; a name is verifier, likelihood (built-in reward
 *               models), calc, json, length:N, keyword:WORD (keyword:!WORD forbids it) or a reward model folder.
 *               Default: verifier with the built-in LM, none otherwise.
 *   "value":    value model folder (vas); default: the built-in one with the built-in LM.
 *   "baseline": baseline policy LM folder (tqstar); default: models/arith/aligned with the built-in LM.
 *   "task":     task whose answer extractor mv/wmv vote with; default: arith with the built-in LM.
 *   "backend":  kernel backend: cpu (default), auto, cuda or ilgpu-cpu.
 * Models named in the config load now (a wrong path fails here); built-in defaults load when a strategy first needs them.
 */
DA_API int da_bundle_load(const char* config_json, da_bundle** out);

/* Waits for a running generation on the bundle, then frees it and every model it loaded. NULL is a no-op. */
DA_API int da_bundle_free(da_bundle* bundle);

/*
 * Generates a continuation of `prompt`, encoded as is with the LM's tokenizer ("" starts from BOS alone; the built-in
 * arith models expect "Q: <question>\nA:"). options_json keys (all optional; defaults as `decodealign generate`):
 *   "strategy" (default "sample"): any name of the strategy catalog (greedy, sample, bon, mv, wmv, args, vas, qalign,
 *       smc, deal, tqstar; `decodealign strategies` lists them), case-insensitive;
 *   "max_new_tokens" (128), "temperature" (1; greedy uses 0), "top_p" (1), "min_p" (0), "seed" (0), "stop" (a string
 *       or an array of strings), "ignore_eos" (false), "repetition_penalty" (1), "frequency_penalty" (0),
 *       "presence_penalty" (0);
 *   the strategy's own options by their catalog names, e.g. "n", "beta", "top-k" (or "top_k"), "lambda", "prune-at"
 *       (an array of integers); a key the strategy does not read is an error (DA_ERR_OPTION).
 * `callback` may be NULL. On success *out holds a result to free with da_result_free.
 * A cancelled generation (da_cancel or the callback) is a success: its result has finish reason DA_FINISH_CANCELLED.
 */
DA_API int da_generate(da_bundle* bundle, const char* prompt, const char* options_json, da_token_callback callback, void* user,
                       da_result** out);

/*
 * Cancels every generation running or waiting on `bundle` at the time of the call; each stops within one decoding step
 * and returns what it has. Generations started afterwards are not affected. Safe from any thread and from a callback.
 */
DA_API int da_cancel(da_bundle* bundle);

/* The generated text (without the prompt or a stop string), NUL-terminated; valid until da_result_free. length may be NULL. */
DA_API int da_result_text(const da_result* result, const char** text, size_t* length);

/* The number of generated tokens (EOS excluded). */
DA_API int da_result_token_count(const da_result* result, size_t* count);

/* The generated token ids (count from da_result_token_count); valid until da_result_free. */
DA_API int da_result_tokens(const da_result* result, const int32_t** tokens);

/* Why generation ended: a DA_FINISH_* value, and its name ("eos", "stop", "max_tokens", ...) when name is not NULL. */
DA_API int da_result_finish_reason(const da_result* result, int* reason, const char** name);

/* The reward of the chosen response: *has_reward is 1 and *reward set where the strategy scored it (bon, qalign, ...), else 0. */
DA_API int da_result_reward(const da_result* result, double* reward, int* has_reward);

/* Frees a result. NULL is a no-op. */
DA_API int da_result_free(da_result* result);

/*
 * The message of the last failed call on this thread ("" when none failed yet). The pointer stays valid until the
 * next failing call on the same thread; never NULL.
 */
DA_API const char* da_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* DECODEALIGN_H */
