/*
 * generate.c: DecodeAlign from C. Loads the built-in arith bundle, generates with greedy (streamed) and best-of-4
 * (delivered once at the end), cancels a generation from another thread, checks that bad options fail with a status
 * and a message, frees everything, and exits 0 only when every check held.
 *
 *   cc -I native/include native/samples/generate.c -L native/build -ldecodealign -lpthread -o generate
 *
 * DECODEALIGN_SAMPLE_LEAK=1 skips one da_result_free on purpose: run-samples.sh uses it to show that the leak check
 * does catch a leak of libdecodealign's own allocations.
 */
#include <decodealign.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char* const PROMPT =
    "Q: Mia has 12 apples. She buys 7 more apples. Then she loses 4 apples. How many apples does Mia have now?\nA:";

static int failures = 0;

#define CHECK(cond, ...)                                      \
    do {                                                      \
        if (!(cond)) {                                        \
            fprintf(stderr, "FAILED (%s:%d): ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                     \
            fprintf(stderr, "\n");                            \
            failures++;                                       \
        }                                                     \
    } while (0)

/* Collects the streamed text, to compare it with the result's. */
typedef struct {
    char* text;
    size_t length;
    int calls;
} stream;

static int on_text(const char* text, size_t length, void* user) {
    stream* s = user;
    char* grown = realloc(s->text, s->length + length + 1);
    if (grown == NULL) return 1; /* nonzero cancels the generation */
    memcpy(grown + s->length, text, length + 1);
    s->text = grown;
    s->length += length;
    s->calls++;
    fwrite(text, 1, length, stdout);
    fflush(stdout);
    return 0;
}

static void generate(da_bundle* bundle, const char* options) {
    printf("\n== %s\n", options);
    stream s = {0};
    da_result* result = NULL;
    int rc = da_generate(bundle, PROMPT, options, on_text, &s, &result);
    printf("\n");
    CHECK(rc == DA_OK, "da_generate returned %d: %s", rc, da_last_error());
    if (rc == DA_OK) {
        const char* text;
        size_t length, tokens;
        int reason, has_reward;
        const char* reason_name;
        double reward;
        CHECK(da_result_text(result, &text, &length) == DA_OK, "da_result_text: %s", da_last_error());
        CHECK(da_result_token_count(result, &tokens) == DA_OK, "da_result_token_count: %s", da_last_error());
        CHECK(da_result_finish_reason(result, &reason, &reason_name) == DA_OK, "da_result_finish_reason: %s", da_last_error());
        CHECK(da_result_reward(result, &reward, &has_reward) == DA_OK, "da_result_reward: %s", da_last_error());
        printf("result: \"%s\"\n", text);
        printf("tokens: %zu, finish: %s, reward: ", tokens, reason_name);
        if (has_reward) printf("%.4f\n", reward);
        else printf("none\n");
        printf("callback calls: %d\n", s.calls);
        CHECK(tokens > 0 && length > 0, "empty result");
        CHECK(s.text != NULL && strcmp(s.text, text) == 0, "streamed text \"%s\" differs from the result's", s.text ? s.text : "");
        if (getenv("DECODEALIGN_SAMPLE_LEAK") == NULL) da_result_free(result);
    }
    free(s.text);
}

static void expect_error(da_bundle* bundle, const char* options, int expected) {
    da_result* result = NULL;
    int rc = da_generate(bundle, PROMPT, options, NULL, NULL, &result);
    const char* message = da_last_error();
    printf("options %-44s -> status %d: %s\n", options, rc, message);
    CHECK(rc == expected, "expected status %d for %s, got %d", expected, options, rc);
    CHECK(message != NULL && message[0] != '\0', "no error message for %s", options);
    CHECK(result == NULL, "a result was returned for %s", options);
}

/* Cancellation from another thread, made deterministic: the worker's callback waits on the first text until the main
 * thread has called da_cancel, so the generation is still running when the cancel arrives. */
typedef struct {
    da_bundle* bundle;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int first_text, cancelled;
    int rc;
    da_result* result;
} cancel_test;

static int wait_for_cancel(const char* text, size_t length, void* user) {
    (void)text;
    (void)length;
    cancel_test* t = user;
    pthread_mutex_lock(&t->lock);
    t->first_text = 1;
    pthread_cond_broadcast(&t->changed);
    while (!t->cancelled) pthread_cond_wait(&t->changed, &t->lock);
    pthread_mutex_unlock(&t->lock);
    return 0;
}

static void* cancel_worker(void* arg) {
    cancel_test* t = arg;
    t->rc = da_generate(t->bundle, PROMPT, "{\"strategy\": \"sample\", \"max_new_tokens\": 120, \"ignore_eos\": true, \"seed\": 3}",
                        wait_for_cancel, t, &t->result);
    return NULL;
}

static void cancel_from_another_thread(da_bundle* bundle) {
    printf("\n== cancel from another thread\n");
    cancel_test t = {.bundle = bundle, .lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};
    pthread_t worker;
    if (pthread_create(&worker, NULL, cancel_worker, &t) != 0) {
        CHECK(0, "pthread_create failed");
        return;
    }
    pthread_mutex_lock(&t.lock);
    while (!t.first_text) pthread_cond_wait(&t.changed, &t.lock);
    int rc = da_cancel(bundle);
    t.cancelled = 1;
    pthread_cond_broadcast(&t.changed);
    pthread_mutex_unlock(&t.lock);
    pthread_join(worker, NULL);
    CHECK(rc == DA_OK, "da_cancel returned %d: %s", rc, da_last_error());
    CHECK(t.rc == DA_OK, "cancelled da_generate returned %d", t.rc);
    if (t.rc == DA_OK) {
        size_t tokens;
        const char* reason;
        da_result_token_count(t.result, &tokens);
        da_result_finish_reason(t.result, NULL, &reason);
        printf("cancelled after %zu of at most 120 tokens, finish: %s\n", tokens, reason);
        CHECK(strcmp(reason, "cancelled") == 0 && tokens < 120, "expected a cancelled result, got %s after %zu tokens", reason, tokens);
        da_result_free(t.result);
    }
    pthread_mutex_destroy(&t.lock);
    pthread_cond_destroy(&t.changed);
}

int main(void) {
    da_bundle* bundle = NULL;
    int rc = da_bundle_load("{}", &bundle); /* the built-in models/arith bundle */
    if (rc != DA_OK) {
        fprintf(stderr, "da_bundle_load failed (%d): %s\n", rc, da_last_error());
        return 1;
    }
    printf("prompt: %s\n", PROMPT);

    generate(bundle, "{\"strategy\": \"greedy\", \"max_new_tokens\": 64}");
    generate(bundle, "{\"strategy\": \"bon\", \"n\": 4, \"seed\": 7, \"max_new_tokens\": 64, \"temperature\": 1.0}");
    cancel_from_another_thread(bundle);

    printf("\n== errors\n");
    expect_error(bundle, "{\"strategy\": \"greedy\", ", DA_ERR_JSON);
    expect_error(bundle, "[1, 2]", DA_ERR_JSON);
    expect_error(bundle, "{\"strategy\": \"no-such\"}", DA_ERR_UNKNOWN_STRATEGY);
    expect_error(bundle, "{\"strategy\": \"greedy\", \"n\": 4}", DA_ERR_OPTION);
    expect_error(bundle, "{\"strategy\": \"bon\", \"n\": \"four\"}", DA_ERR_OPTION);
    expect_error(bundle, "{\"max_new_tokens\": 0}", DA_ERR_OPTION);
    da_result* none = NULL;
    rc = da_generate(NULL, PROMPT, NULL, NULL, NULL, &none);
    printf("NULL bundle -> status %d: %s\n", rc, da_last_error());
    CHECK(rc == DA_ERR_INVALID_ARGUMENT, "expected DA_ERR_INVALID_ARGUMENT for a NULL bundle, got %d", rc);
    da_bundle* bad = NULL;
    rc = da_bundle_load("{\"model\": \"/no/such/model\"}", &bad);
    printf("missing model folder -> status %d: %s\n", rc, da_last_error());
    CHECK(rc == DA_ERR_MODEL && bad == NULL, "expected DA_ERR_MODEL for a missing model folder, got %d", rc);

    CHECK(da_bundle_free(bundle) == DA_OK, "da_bundle_free: %s", da_last_error());
    if (failures) {
        fprintf(stderr, "generate.c: %d check(s) failed\n", failures);
        return 1;
    }
    printf("\ngenerate.c: all checks passed\n");
    return 0;
}
