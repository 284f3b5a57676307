"""The paper's operators: filters (Morlet and low-pass), the wavelet transform, the complex and real
non-linearities, the scattering block and head, and distributed normalization statistics."""
