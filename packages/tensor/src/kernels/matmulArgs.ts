/**
 * @file The descriptor of one matrix product into a buffer, shared by the float32, float64 and
 * int32 kernels, the WebAssembly runtime and the compiler (one object instead of eleven
 * positional numbers and buffers, whose order was easy to get wrong).
 */

/**
 * One product `out[outOffset ..+ m·n] = op(a) · op(b)`, row-major, overwriting that range: op(a)
 * is the m × k matrix stored at `a[aOffset..]` — with `transA`, the transpose of the k × m matrix
 * stored there — and op(b) the k × n matrix at `b[bOffset..]` (with `transB`, stored n × k).
 */
export interface MatmulArgs<Out = Float32Array | Float64Array | Int32Array, In = Out> {
  /** The output buffer. */
  readonly out: Out;
  /** Index of the product's first element in `out`. */
  readonly outOffset: number;
  /** The left operand's buffer. */
  readonly a: In;
  /** Index of op(a)'s storage in `a`. */
  readonly aOffset: number;
  /** The right operand's buffer. */
  readonly b: In;
  /** Index of op(b)'s storage in `b`. */
  readonly bOffset: number;
  /** Rows of op(a) and of the product. */
  readonly m: number;
  /** Columns of op(a), rows of op(b). */
  readonly k: number;
  /** Columns of op(b) and of the product. */
  readonly n: number;
  /** Read `a` as the transpose of its stored k × m layout (default false). */
  readonly transA?: boolean;
  /** Read `b` as the transpose of its stored n × k layout (default false). */
  readonly transB?: boolean;
}
