// anolab's own CUDA kernels (f32), compiled to PTX by build.rs for the `cuda` feature and
// launched from src/nn/cuda.rs. Each is the device twin of a CPU loop in src/nn: the
// column gathers and scatters of the convolution family (conv_op.rs), the layout permutes
// around its matrix products, the LeakyReLU mask (act.rs) and the Adam step (adam.rs).
// One thread per output element; every kernel is a gather (no atomics), so results do
// not depend on scheduling.

extern "C" {

// col[(c*K + k), (b*T + t)] = x[b, c, t*s + k - p], zero where the window hangs over the
// padding. x: B x C x L, col: (C*K) x (B*T), both row-major.
__global__ void anolab_im2col_f32(const float *x, float *col, unsigned int batch,
                                  unsigned int c_in, unsigned int len_in, unsigned int kernel,
                                  unsigned int len_out, unsigned int stride,
                                  unsigned int padding) {
    const unsigned long long cols = (unsigned long long)batch * len_out;
    const unsigned long long n = (unsigned long long)c_in * kernel * cols;
    for (unsigned long long idx = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;
         idx < n; idx += (unsigned long long)gridDim.x * blockDim.x) {
        const unsigned long long row = idx / cols, column = idx % cols;
        const unsigned int c = row / kernel, k = row % kernel;
        const unsigned int b = column / len_out, t = column % len_out;
        const long long i = (long long)t * stride + k - padding;
        col[idx] = (i >= 0 && i < len_in)
                       ? x[((unsigned long long)b * c_in + c) * len_in + i]
                       : 0.0f;
    }
}

// The adjoint of im2col, in gather form: x[b, c, i] = sum over taps k with
// i = t*s + k - p for some output t in [0, T) of col[(c*K + k), (b*T + t)].
__global__ void anolab_col2im_f32(const float *col, float *x, unsigned int batch,
                                  unsigned int c_in, unsigned int len_in, unsigned int kernel,
                                  unsigned int len_out, unsigned int stride,
                                  unsigned int padding) {
    const unsigned long long cols = (unsigned long long)batch * len_out;
    const unsigned long long n = (unsigned long long)batch * c_in * len_in;
    for (unsigned long long idx = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;
         idx < n; idx += (unsigned long long)gridDim.x * blockDim.x) {
        const unsigned int i = idx % len_in;
        const unsigned long long bc = idx / len_in;
        const unsigned int c = bc % c_in, b = bc / c_in;
        float sum = 0.0f;
        for (unsigned int k = 0; k < kernel; ++k) {
            const long long at = (long long)i + padding - k;  // t * s
            if (at < 0 || at % stride != 0) continue;
            const long long t = at / stride;
            if (t >= len_out) continue;
            sum += col[((unsigned long long)c * kernel + k) * cols +
                       (unsigned long long)b * len_out + t];
        }
        x[idx] = sum;
    }
}

// B x O x T -> O x (B*T): out[o, b*T + t] = y[b, o, t].
__global__ void anolab_batch_to_columns_f32(const float *y, float *out, unsigned int batch,
                                            unsigned int channels, unsigned int len) {
    const unsigned long long n = (unsigned long long)batch * channels * len;
    for (unsigned long long idx = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;
         idx < n; idx += (unsigned long long)gridDim.x * blockDim.x) {
        const unsigned int t = idx % len;
        const unsigned long long bo = idx / len;
        const unsigned int o = bo % channels, b = bo / channels;
        out[((unsigned long long)o * batch + b) * len + t] = y[idx];
    }
}

// O x (B*T) -> B x O x T: out[b, o, t] = m[o, b*T + t].
__global__ void anolab_columns_to_batch_f32(const float *m, float *out, unsigned int batch,
                                            unsigned int channels, unsigned int len) {
    const unsigned long long n = (unsigned long long)batch * channels * len;
    for (unsigned long long idx = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;
         idx < n; idx += (unsigned long long)gridDim.x * blockDim.x) {
        const unsigned int t = idx % len;
        const unsigned long long bo = idx / len;
        const unsigned int o = bo % channels, b = bo / channels;
        out[idx] = m[((unsigned long long)o * batch + b) * len + t];
    }
}

// out = g * m(x), m(x) = 1 where x > 0, else slope (act.rs).
__global__ void anolab_mask_mul_f32(const float *g, const float *x, float *out,
                                    unsigned long long n, float slope) {
    for (unsigned long long idx = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;
         idx < n; idx += (unsigned long long)gridDim.x * blockDim.x) {
        out[idx] = g[idx] * (x[idx] > 0.0f ? 1.0f : slope);
    }
}

// One Adam (AdamW) step in place, the f32 operations of adam.rs in its order. The _rn
// intrinsics keep nvcc from contracting a*b + c into an FMA, so the weights are the
// CPU's bit for bit.
__global__ void anolab_adam_f32(float *theta, const float *g, float *m, float *v,
                                unsigned long long n, float b1, float b2, float one_minus_b1,
                                float one_minus_b2, float scale_m, float scale_v, float decay,
                                float lr, float eps) {
    for (unsigned long long idx = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;
         idx < n; idx += (unsigned long long)gridDim.x * blockDim.x) {
        const float gi = g[idx];
        const float next_m = __fadd_rn(__fmul_rn(m[idx], b1), __fmul_rn(gi, one_minus_b1));
        const float next_v =
            __fadd_rn(__fmul_rn(v[idx], b2), __fmul_rn(__fmul_rn(gi, gi), one_minus_b2));
        const float m_hat = __fmul_rn(next_m, scale_m);
        const float v_hat = __fmul_rn(next_v, scale_v);
        const float adjusted = __fdiv_rn(m_hat, __fadd_rn(__fsqrt_rn(v_hat), eps));
        theta[idx] = __fsub_rn(__fmul_rn(theta[idx], decay), __fmul_rn(adjusted, lr));
        m[idx] = next_m;
        v[idx] = next_v;
    }
}

}  // extern "C"
