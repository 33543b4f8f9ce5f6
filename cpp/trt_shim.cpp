// redline TensorRT shim: a C ABI over the TensorRT >= 10 runtime and builder API.
//
// Nothing here links against libnvinfer: the Rust side dlopen()s the libraries and passes the
// addresses of the exported factory functions (createInferRuntime_INTERNAL,
// createInferBuilder_INTERNAL, createNvOnnxParser_INTERNAL) in. Every other call is a virtual
// call through the objects those factories return, which needs only the headers.
//
// ABI: ILogger's layout changed in TensorRT 11 (it became an IVersionedInterface), so one
// compiled shim supports exactly the major it was compiled against (REDLINE_TRT_SHIM_MAJOR);
// the Rust side refuses a library whose getInferLibVersion() reports another major.
#include <NvInfer.h>
#include <NvOnnxParser.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <new>

#if NV_TENSORRT_MAJOR < 10 || NV_TENSORRT_MAJOR > 11
#error "redline's TensorRT shim supports TensorRT 10.x and 11.x headers only"
#endif

namespace {

using CreateRuntimeFn = void* (*)(void*, int32_t);
using CreateBuilderFn = void* (*)(void*, int32_t);
using CreateParserFn = void* (*)(void*, void*, int);

// Records every message at or above kERROR; the first one is kept for the error report.
class RecordingLogger final : public nvinfer1::ILogger {
public:
    void log(Severity severity, nvinfer1::AsciiChar const* msg) noexcept override {
        if (severity <= Severity::kERROR) {
            if (errors.fetch_add(1) == 0 && msg != nullptr) {
                std::strncpy(first_error, msg, sizeof(first_error) - 1);
            }
        }
    }
    std::atomic<int32_t> errors{0};
    char first_error[512] = {0};
};

struct Runtime {
    RecordingLogger logger;
    nvinfer1::IRuntime* runtime = nullptr;
};

struct Engine {
    nvinfer1::ICudaEngine* engine = nullptr;
    nvinfer1::IExecutionContext* context = nullptr;
};

void copy_msg(char* out, size_t cap, char const* msg) {
    if (out == nullptr || cap == 0) return;
    std::strncpy(out, msg, cap - 1);
    out[cap - 1] = 0;
}

} // namespace

extern "C" {

int32_t redline_trt_shim_major() noexcept { return NV_TENSORRT_MAJOR; }

// Creates a runtime. Any error logged during creation is a failure (with no usable GPU,
// createInferRuntime logs "CUDA initialization failure" and still returns non-null).
void* redline_trt_runtime_create(void* create_fn, char* err, size_t err_cap) noexcept {
    auto* rt = new (std::nothrow) Runtime();
    if (rt == nullptr) return nullptr;
    auto fn = reinterpret_cast<CreateRuntimeFn>(create_fn);
    rt->runtime = static_cast<nvinfer1::IRuntime*>(fn(&rt->logger, NV_TENSORRT_VERSION));
    if (rt->runtime == nullptr || rt->logger.errors.load() != 0) {
        copy_msg(err, err_cap, rt->logger.first_error[0] ? rt->logger.first_error
                                                         : "createInferRuntime returned null");
        // A runtime created with logged errors is not trusted: do not even delete it.
        rt->runtime = nullptr;
        delete rt;
        return nullptr;
    }
    return rt;
}

void redline_trt_runtime_destroy(void* rt) noexcept {
    auto* r = static_cast<Runtime*>(rt);
    if (r == nullptr) return;
    delete r->runtime;
    delete r;
}

void* redline_trt_engine_deserialize(void* rt, void const* blob, size_t size, char* err,
                                     size_t err_cap) noexcept {
    auto* r = static_cast<Runtime*>(rt);
    int32_t before = r->logger.errors.load();
    auto* e = new (std::nothrow) Engine();
    if (e == nullptr) return nullptr;
    e->engine = r->runtime->deserializeCudaEngine(blob, size);
    if (e->engine != nullptr) e->context = e->engine->createExecutionContext();
    if (e->engine == nullptr || e->context == nullptr || r->logger.errors.load() != before) {
        copy_msg(err, err_cap, r->logger.first_error[0] ? r->logger.first_error
                                                        : "deserializeCudaEngine failed");
        delete e->context;
        delete e->engine;
        delete e;
        return nullptr;
    }
    return e;
}

void redline_trt_engine_destroy(void* engine) noexcept {
    auto* e = static_cast<Engine*>(engine);
    if (e == nullptr) return;
    delete e->context;
    delete e->engine;
    delete e;
}

int32_t redline_trt_io_count(void* engine) noexcept {
    return static_cast<Engine*>(engine)->engine->getNbIOTensors();
}

char const* redline_trt_io_name(void* engine, int32_t index) noexcept {
    return static_cast<Engine*>(engine)->engine->getIOTensorName(index);
}

// 1 = input, 2 = output, 0 = none.
int32_t redline_trt_io_mode(void* engine, char const* name) noexcept {
    return static_cast<int32_t>(static_cast<Engine*>(engine)->engine->getTensorIOMode(name));
}

// nvinfer1::DataType as its integer value (kFLOAT = 0, kHALF = 1, ...).
int32_t redline_trt_io_dtype(void* engine, char const* name) noexcept {
    return static_cast<int32_t>(static_cast<Engine*>(engine)->engine->getTensorDataType(name));
}

// Writes up to `cap` dims of the engine's (or, with from_context, the context's) tensor shape;
// returns the rank, or -1.
int32_t redline_trt_io_shape(void* engine, char const* name, int32_t from_context, int64_t* dims,
                             int32_t cap) noexcept {
    auto* e = static_cast<Engine*>(engine);
    nvinfer1::Dims d = from_context ? e->context->getTensorShape(name)
                                    : e->engine->getTensorShape(name);
    if (d.nbDims < 0) return -1;
    for (int32_t i = 0; i < d.nbDims && i < cap; ++i) dims[i] = d.d[i];
    return d.nbDims;
}

// Writes up to `cap` dims of optimisation profile 0's min (which = 0), opt (1) or max (2)
// shape for input `name`; returns the rank, or -1 when the engine has no profile.
int32_t redline_trt_profile_shape(void* engine, char const* name, int32_t which, int64_t* dims,
                                  int32_t cap) noexcept {
    auto* e = static_cast<Engine*>(engine);
    if (which < 0 || which > 2 || e->engine->getNbOptimizationProfiles() < 1) return -1;
    nvinfer1::Dims d =
        e->engine->getProfileShape(name, 0, static_cast<nvinfer1::OptProfileSelector>(which));
    if (d.nbDims < 0) return -1;
    for (int32_t i = 0; i < d.nbDims && i < cap; ++i) dims[i] = d.d[i];
    return d.nbDims;
}

int32_t redline_trt_set_input_shape(void* engine, char const* name, int64_t const* dims,
                                    int32_t rank) noexcept {
    if (rank < 0 || rank > nvinfer1::Dims::MAX_DIMS) return 0;
    nvinfer1::Dims d{};
    d.nbDims = rank;
    for (int32_t i = 0; i < rank; ++i) d.d[i] = dims[i];
    return static_cast<Engine*>(engine)->context->setInputShape(name, d) ? 1 : 0;
}

int32_t redline_trt_set_tensor_address(void* engine, char const* name, void* ptr) noexcept {
    return static_cast<Engine*>(engine)->context->setTensorAddress(name, ptr) ? 1 : 0;
}

int32_t redline_trt_enqueue(void* engine, void* stream) noexcept {
    return static_cast<Engine*>(engine)->context->enqueueV3(static_cast<cudaStream_t>(stream)) ? 1
                                                                                               : 0;
}

// Builds a serialized engine from an ONNX file. On success *out_blob/*out_size describe the
// plan owned by the returned handle (free with redline_trt_blob_destroy).
// Fixes the network's single input for a batch range of 1..=max_batch: a batch dimension of
// 1 becomes dynamic when max_batch > 1, other dynamic dimensions take the configured row shape
// (row_dims, its first entry the batch), and a dynamic batch gets one optimisation profile
// min 1 / opt max_batch / max max_batch. Returns false with a message when it cannot.
static bool set_batch_profile(nvinfer1::IBuilder* builder, nvinfer1::INetworkDefinition* network,
                              nvinfer1::IBuilderConfig* config, int32_t max_batch,
                              int64_t const* row_dims, int32_t row_rank, char* err,
                              size_t err_cap) noexcept {
    if (network->getNbInputs() != 1) {
        copy_msg(err, err_cap, "the network must have exactly one input");
        return false;
    }
    nvinfer1::ITensor* input = network->getInput(0);
    nvinfer1::Dims d = input->getDimensions();
    if (d.nbDims != row_rank || d.nbDims < 1) {
        copy_msg(err, err_cap, "the network input's rank differs from the configured input shape");
        return false;
    }
    if (max_batch > 1 && d.d[0] == 1) d.d[0] = -1;
    bool dynamic = false;
    for (int32_t i = 0; i < d.nbDims; ++i) {
        if (d.d[i] == -1) {
            dynamic = true;
        }
    }
    if (!dynamic) return true;
    input->setDimensions(d);
    nvinfer1::Dims lo = d;
    nvinfer1::Dims hi = d;
    for (int32_t i = 1; i < d.nbDims; ++i) {
        if (d.d[i] == -1) {
            lo.d[i] = row_dims[i];
            hi.d[i] = row_dims[i];
        }
    }
    lo.d[0] = d.d[0] == -1 ? 1 : d.d[0];
    hi.d[0] = d.d[0] == -1 ? (max_batch < 1 ? 1 : max_batch) : d.d[0];
    nvinfer1::IOptimizationProfile* profile = builder->createOptimizationProfile();
    if (profile == nullptr ||
        !profile->setDimensions(input->getName(), nvinfer1::OptProfileSelector::kMIN, lo) ||
        !profile->setDimensions(input->getName(), nvinfer1::OptProfileSelector::kOPT, hi) ||
        !profile->setDimensions(input->getName(), nvinfer1::OptProfileSelector::kMAX, hi) ||
        config->addOptimizationProfile(profile) < 0) {
        copy_msg(err, err_cap, "could not set the optimisation profile for the batch range");
        return false;
    }
    return true;
}

void* redline_trt_build_from_onnx(void* create_builder_fn, void* create_parser_fn,
                                  char const* onnx_path, int32_t fp16, int32_t max_batch,
                                  int64_t const* row_dims, int32_t row_rank,
                                  void const** out_blob, size_t* out_size, char* err,
                                  size_t err_cap) noexcept {
    RecordingLogger logger;
    auto builder_fn = reinterpret_cast<CreateBuilderFn>(create_builder_fn);
    auto parser_fn = reinterpret_cast<CreateParserFn>(create_parser_fn);
    auto* builder =
        static_cast<nvinfer1::IBuilder*>(builder_fn(&logger, NV_TENSORRT_VERSION));
    if (builder == nullptr || logger.errors.load() != 0) {
        copy_msg(err, err_cap, logger.first_error[0] ? logger.first_error : "createInferBuilder failed");
        return nullptr;
    }
    nvinfer1::INetworkDefinition* network = builder->createNetworkV2(0);
    nvinfer1::IBuilderConfig* config = builder->createBuilderConfig();
    auto* parser = network == nullptr ? nullptr
                                      : static_cast<nvonnxparser::IParser*>(
                                            parser_fn(network, &logger, NV_ONNX_PARSER_VERSION));
    nvinfer1::IHostMemory* plan = nullptr;
    if (network == nullptr || config == nullptr || parser == nullptr) {
        copy_msg(err, err_cap, "could not create network, builder config or ONNX parser");
    } else if (!parser->parseFromFile(onnx_path,
                                      static_cast<int>(nvinfer1::ILogger::Severity::kWARNING))) {
        copy_msg(err, err_cap, parser->getNbErrors() > 0 ? parser->getError(0)->desc()
                                                         : "ONNX parse failed");
    } else {
#if NV_TENSORRT_MAJOR < 11
        // Deprecated in late 10.x (strong typing is preferred) but still honoured there.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        if (fp16) config->setFlag(nvinfer1::BuilderFlag::kFP16);
#pragma GCC diagnostic pop
#else
        if (fp16) {
            copy_msg(err, err_cap,
                     "TensorRT 11 builds strongly typed networks: precision fp16 needs an fp16 ONNX "
                     "model; set precision: fp32 and convert the model");
        }
#endif
        if ((err == nullptr || err[0] == 0) &&
            set_batch_profile(builder, network, config, max_batch, row_dims, row_rank, err,
                              err_cap)) {
            plan = builder->buildSerializedNetwork(*network, *config);
            if (plan == nullptr) {
                copy_msg(err, err_cap,
                         logger.first_error[0] ? logger.first_error : "buildSerializedNetwork failed");
            }
        }
    }
    delete parser;
    delete config;
    delete network;
    delete builder;
    if (plan == nullptr) return nullptr;
    *out_blob = plan->data();
    *out_size = plan->size();
    return plan;
}

void redline_trt_blob_destroy(void* blob) noexcept { delete static_cast<nvinfer1::IHostMemory*>(blob); }

} // extern "C"
