// anolab's own CUDA kernels (f32), compiled to PTX by build.rs for the `cuda` feature and
// launched from src/nn/cuda.rs. Each is the device twin of a CPU loop in src/nn: the
// column gathers and scatters of the convolution family (conv_op.rs), the layout permutes
// around its matrix products, the LeakyReLU mask (act.rs), the Adam step (adam.rs) and
// the fused batch norm + activation (norm.rs). One thread per output element, or one
// block per channel for the batch norm's sums; no atomics, so results do not depend on
// scheduling.

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

// Per channel c of x: B x C x S, the two sums the batch norm needs, in f64, one block per
// channel (blockDim.x a power of two, at most 1024): with g == nullptr (x, x*x), the
// statistics; else, with z = a[c]*x + b[c] and d = g * m(z), (d, d*x), the gradient's.
// out[2c], out[2c+1].
__global__ void anolab_bn_sums_f32(const float *x, const float *g, const float *ab,
                                   double *out, unsigned int batch, unsigned int channels,
                                   unsigned int len, float slope) {
    __shared__ double s0[1024], s1[1024];
    const unsigned int c = blockIdx.x;
    const unsigned long long per_channel = (unsigned long long)batch * len;
    double p = 0.0, q = 0.0;
    for (unsigned long long j = threadIdx.x; j < per_channel; j += blockDim.x) {
        const unsigned long long b = j / len, s = j % len;
        const unsigned long long at = (b * channels + c) * len + s;
        const float v = x[at];
        if (g == nullptr) {
            p += v;
            q += __fmul_rn(v, v);
        } else {
            const float z = __fadd_rn(__fmul_rn(ab[c], v), ab[channels + c]);
            const float d = __fmul_rn(g[at], z > 0.0f ? 1.0f : slope);
            p += d;
            q += __fmul_rn(d, v);
        }
    }
    s0[threadIdx.x] = p;
    s1[threadIdx.x] = q;
    __syncthreads();
    for (unsigned int half = blockDim.x / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) {
            s0[threadIdx.x] += s0[threadIdx.x + half];
            s1[threadIdx.x] += s1[threadIdx.x + half];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        out[2 * c] = s0[0];
        out[2 * c + 1] = s1[0];
    }
}

// The batch norm's forward, z = scale[c]*x + shift[c], y = z * m(z), with
// affine = [scale; shift] (norm.rs computes both per channel).
__global__ void anolab_bn_act_f32(const float *x, const float *affine, float *y,
                                  unsigned long long n, unsigned int channels, unsigned int len,
                                  float slope) {
    for (unsigned long long idx = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;
         idx < n; idx += (unsigned long long)gridDim.x * blockDim.x) {
        const unsigned int c = (idx / len) % channels;
        const float z = __fadd_rn(__fmul_rn(x[idx], affine[c]), affine[channels + c]);
        y[idx] = __fmul_rn(z, z > 0.0f ? 1.0f : slope);
    }
}

// The batch norm's input gradient, dx = c1*d + c2*x + c3 with d = g * m(a*x + b), from
// the per-channel coefficients k = [a; b; c1; c2; c3] (norm.rs computes them).
__global__ void anolab_bn_act_grad_f32(const float *x, const float *g, const float *k,
                                       float *dx, unsigned long long n, unsigned int channels,
                                       unsigned int len, float slope) {
    for (unsigned long long idx = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;
         idx < n; idx += (unsigned long long)gridDim.x * blockDim.x) {
        const unsigned int c = (idx / len) % channels;
        const float v = x[idx];
        const float z = __fadd_rn(__fmul_rn(v, k[c]), k[channels + c]);
        const float d = __fmul_rn(g[idx], z > 0.0f ? 1.0f : slope);
        dx[idx] = __fadd_rn(__fadd_rn(__fmul_rn(k[2 * channels + c], d),
                                      __fmul_rn(k[3 * channels + c], v)),
                            k[4 * channels + c]);
    }
}

}  // extern "C"
