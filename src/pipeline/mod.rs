//! Stage threads connected by a latest-wins slot and bounded channels, moving pooled buffers.
