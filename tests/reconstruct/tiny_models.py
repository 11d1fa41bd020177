"""Tiny randomly initialised ``transformers`` models (no weights), saved to a folder so that the
adapters load them through ``from_pretrained`` as they would a real checkpoint."""
from __future__ import annotations

from pathlib import Path

import torch


def grounding_dino(folder: Path, words: list[str]) -> Path:
    from transformers import (
        BertConfig,
        BertTokenizer,
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessorPil,
        GroundingDinoProcessor,
        SwinConfig,
    )

    torch.manual_seed(0)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", *words]
    tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(vocab)})  # vocab=, not vocab_file=
    config = GroundingDinoConfig(
        backbone_config=SwinConfig(embed_dim=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1], window_size=4,
                                   image_size=128, out_features=["stage2", "stage3", "stage4"]),
        text_config=BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                               intermediate_size=37),
        d_model=32, encoder_layers=1, decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=32, decoder_ffn_dim=32, num_queries=20, num_feature_levels=3, encoder_n_points=2,
        decoder_n_points=2, max_text_len=32, use_timm_backbone=False)
    GroundingDinoForObjectDetection(config).save_pretrained(folder)
    image_processor = GroundingDinoImageProcessorPil(size={"shortest_edge": 128, "longest_edge": 160})
    GroundingDinoProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(folder)
    return folder


def sam2_video(folder: Path) -> Path:
    from transformers import (
        Sam2HieraDetConfig,
        Sam2VideoConfig,
        Sam2VideoMaskDecoderConfig,
        Sam2VideoModel,
        Sam2VideoPromptEncoderConfig,
        Sam2VisionConfig,
    )

    torch.manual_seed(0)
    size = 128
    backbone = Sam2HieraDetConfig(hidden_size=12, image_size=size, blocks_per_stage=[1, 1, 1, 1],
                                  embed_dim_per_stage=[12, 24, 48, 96], num_attention_heads_per_stage=[1, 1, 1, 1],
                                  window_size_per_stage=[4, 4, 4, 4], global_attention_blocks=[],
                                  window_positional_embedding_background_size=[4, 4])
    vision = Sam2VisionConfig(backbone_config=backbone, backbone_channel_list=[96, 48, 24, 12],
                              backbone_feature_sizes=[[32, 32], [16, 16], [8, 8]], fpn_hidden_size=128)
    # memory attention is fixed at 64 output channels and needs hidden sizes of 128
    config = Sam2VideoConfig(
        vision_config=vision,
        prompt_encoder_config=Sam2VideoPromptEncoderConfig(hidden_size=128, image_size=size, mask_input_channels=8),
        mask_decoder_config=Sam2VideoMaskDecoderConfig(hidden_size=128, mlp_dim=64, num_hidden_layers=1,
                                                       num_attention_heads=2, iou_head_hidden_dim=32),
        memory_attention_hidden_size=128, memory_encoder_hidden_size=128, memory_encoder_output_channels=64,
        image_size=size, mask_downsampler_embed_dim=128, memory_fuser_embed_dim=128, memory_fuser_intermediate_dim=64,
        memory_attention_num_layers=1, memory_attention_feed_forward_hidden_size=64,
        memory_attention_rope_feat_sizes=[8, 8])
    Sam2VideoModel(config).save_pretrained(folder)
    return folder


def depth_pro(folder: Path) -> Path:
    from transformers import DepthProConfig, DepthProForDepthEstimation, Dinov2Config

    torch.manual_seed(0)

    def vit() -> Dinov2Config:
        return Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
                            image_size=32, patch_size=16)

    config = DepthProConfig(patch_size=32, fusion_hidden_size=16, intermediate_hook_ids=[1, 0],
                            intermediate_feature_dims=[16, 16], scaled_images_ratios=[0.5, 1],
                            scaled_images_overlap_ratios=[0.0, 0.25], scaled_images_feature_dims=[32, 32],
                            use_fov_model=True, image_model_config=vit(), patch_model_config=vit(),
                            fov_model_config=vit())
    DepthProForDepthEstimation(config).save_pretrained(folder)
    return folder


def depth_anything_metric(folder: Path) -> Path:
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

    torch.manual_seed(0)
    backbone = Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
                            image_size=56, patch_size=14, out_indices=[1, 2], reshape_hidden_states=False,
                            apply_layernorm=True)
    config = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=32, neck_hidden_sizes=[16, 32],
                                 fusion_hidden_size=16, head_hidden_size=8, depth_estimation_type="metric",
                                 max_depth=20, reassemble_factors=[2, 1], patch_size=14)
    DepthAnythingForDepthEstimation(config).save_pretrained(folder)
    return folder
