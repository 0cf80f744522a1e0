//! Turning an uploaded photo into the JPEG Instagram's feed accepts.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage, Rgba, RgbaImage};

use crate::MediaError;

/// Instagram's feed accepts 4:5 (portrait) to 1.91:1 (landscape).
pub const MIN_ASPECT: f64 = 4.0 / 5.0;
pub const MAX_ASPECT: f64 = 1.91;

/// What to do with a photo whose aspect ratio Instagram would refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AspectFit {
    /// Refuse it with a message saying so (the default: never change a picture silently).
    #[default]
    Reject,
    /// Cut the middle to the nearest allowed ratio.
    Crop,
    /// Add white bars to the nearest allowed ratio.
    Pad,
}

#[derive(Debug, Clone, Copy)]
pub struct PhotoOptions {
    pub fit: AspectFit,
    pub max_width: u32,
    pub min_width: u32,
    pub jpeg_quality: u8,
    /// Refuse images claiming more pixels per side than this (decompression bombs).
    pub max_dimension: u32,
}

impl Default for PhotoOptions {
    fn default() -> Self {
        Self {
            fit: AspectFit::Reject,
            max_width: 1440,
            min_width: 320,
            jpeg_quality: 90,
            max_dimension: 12_000,
        }
    }
}

/// The JPEG to upload, and its size after preparation.
#[derive(Debug, Clone)]
pub struct PreparedPhoto {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Decodes (JPEG, PNG, WebP), applies the EXIF orientation, fits the aspect ratio, resizes
/// to at most `max_width` and encodes a baseline JPEG. CPU-heavy: call it from a blocking task.
pub fn prepare_photo(bytes: &[u8], options: &PhotoOptions) -> Result<PreparedPhoto, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    ensure_complete(bytes)?;
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| MediaError::BadImage(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(options.max_dimension);
    limits.max_image_height = Some(options.max_dimension);
    limits.max_alloc = Some(1024 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| bad_image(e, options))?;
    let (w, h) = decoder.dimensions();
    if w > options.max_dimension || h > options.max_dimension {
        return Err(MediaError::TooLarge {
            width: w,
            height: h,
            max: options.max_dimension,
        });
    }
    let orientation = decoder
        .orientation()
        .map_err(|e| MediaError::BadImage(e.to_string()))?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| bad_image(e, options))?;
    image.apply_orientation(orientation);

    let rgb = flatten_on_white(&image);
    let rgb = fit_aspect(rgb, options.fit)?;
    let rgb = resize_width(rgb, options);
    let (width, height) = rgb.dimensions();

    let mut jpeg = Vec::with_capacity((width * height / 4) as usize);
    JpegEncoder::new_with_quality(&mut jpeg, options.jpeg_quality)
        .encode_image(&rgb)
        .map_err(|e| MediaError::BadImage(e.to_string()))?;
    Ok(PreparedPhoto {
        jpeg,
        width,
        height,
    })
}

/// Decoders are lenient: a JPEG cut off mid-transfer decodes with its bottom painted grey.
/// A file must end where its format says it ends.
fn ensure_complete(bytes: &[u8]) -> Result<(), MediaError> {
    let truncated = || MediaError::BadImage("the file is incomplete (truncated upload?)".into());
    let find_last = |needle: &[u8]| bytes.windows(needle.len()).rposition(|w| w == needle);
    if bytes.starts_with(&[0xFF, 0xD8]) {
        // End-of-image must follow the last start-of-scan (entropy-coded data never
        // contains 0xFFD9: a 0xFF there is always followed by 0x00).
        let last_scan = find_last(&[0xFF, 0xDA]).ok_or_else(truncated)?;
        if !bytes[last_scan..].windows(2).any(|w| w == [0xFF, 0xD9]) {
            return Err(truncated());
        }
    } else if bytes.starts_with(b"\x89PNG") {
        if find_last(b"IEND").is_none() {
            return Err(truncated());
        }
    } else if bytes.starts_with(b"RIFF") && bytes.len() >= 12 {
        let declared = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
        if bytes.len() < declared.saturating_add(8) {
            return Err(truncated());
        }
    }
    Ok(())
}

fn bad_image(e: image::ImageError, options: &PhotoOptions) -> MediaError {
    match e {
        image::ImageError::Limits(_) => MediaError::TooLarge {
            width: 0,
            height: 0,
            max: options.max_dimension,
        },
        other => MediaError::BadImage(other.to_string()),
    }
}

/// Transparent pixels become white, as Instagram would show them.
fn flatten_on_white(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba: RgbaImage = image.to_rgba8();
    let mut out = RgbImage::new(rgba.width(), rgba.height());
    for (x, y, Rgba([r, g, b, a])) in rgba.enumerate_pixels().map(|(x, y, p)| (x, y, *p)) {
        let a = u16::from(a);
        let blend = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
        out.put_pixel(x, y, image::Rgb([blend(r), blend(g), blend(b)]));
    }
    out
}

fn fit_aspect(img: RgbImage, fit: AspectFit) -> Result<RgbImage, MediaError> {
    let (w, h) = img.dimensions();
    let ratio = f64::from(w) / f64::from(h);
    // A hair of tolerance: 1080×1350 is exactly 0.8 but float math may say 0.7999…
    if (MIN_ASPECT - 1e-3..=MAX_ASPECT + 1e-3).contains(&ratio) {
        return Ok(img);
    }
    let target = if ratio < MIN_ASPECT {
        MIN_ASPECT
    } else {
        MAX_ASPECT
    };
    match fit {
        AspectFit::Reject => Err(MediaError::AspectRatio { ratio }),
        AspectFit::Crop => {
            let (nw, nh) = if ratio < MIN_ASPECT {
                (w, ((f64::from(w) / target).round() as u32).clamp(1, h))
            } else {
                (((f64::from(h) * target).round() as u32).clamp(1, w), h)
            };
            let (x, y) = ((w - nw) / 2, (h - nh) / 2);
            Ok(image::imageops::crop_imm(&img, x, y, nw, nh).to_image())
        }
        AspectFit::Pad => {
            let (nw, nh) = if ratio < MIN_ASPECT {
                ((f64::from(h) * target).round() as u32, h)
            } else {
                (w, (f64::from(w) / target).round() as u32)
            };
            let mut canvas =
                RgbImage::from_pixel(nw.max(w), nh.max(h), image::Rgb([255, 255, 255]));
            let (x, y) = ((canvas.width() - w) / 2, (canvas.height() - h) / 2);
            image::imageops::overlay(&mut canvas, &img, i64::from(x), i64::from(y));
            Ok(canvas)
        }
    }
}

fn resize_width(img: RgbImage, options: &PhotoOptions) -> RgbImage {
    let (w, h) = img.dimensions();
    let target = if w > options.max_width {
        options.max_width
    } else if w < options.min_width {
        options.min_width
    } else {
        return img;
    };
    let nh = ((u64::from(h) * u64::from(target)) / u64::from(w)).max(1) as u32;
    image::imageops::resize(&img, target, nh, FilterType::CatmullRom)
}

#[cfg(test)]
mod tests {
    use image::ImageEncoder;

    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn png_becomes_a_jpeg_at_most_1440_wide() {
        let out = prepare_photo(&png(2000, 1500), &PhotoOptions::default()).unwrap();
        assert_eq!(&out.jpeg[..3], &[0xFF, 0xD8, 0xFF], "JPEG magic");
        assert_eq!((out.width, out.height), (1440, 1080));
        let back = image::load_from_memory(&out.jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (1440, 1080));
    }

    #[test]
    fn aspect_ratio_is_refused_cropped_or_padded() {
        let tall = png(400, 1000); // 0.4
        let err = prepare_photo(&tall, &PhotoOptions::default()).unwrap_err();
        assert!(err.to_string().contains("4:5 to 1.91:1"), "{err}");

        let crop = PhotoOptions {
            fit: AspectFit::Crop,
            ..Default::default()
        };
        let out = prepare_photo(&tall, &crop).unwrap();
        assert_eq!((out.width, out.height), (400, 500));

        let pad = PhotoOptions {
            fit: AspectFit::Pad,
            ..Default::default()
        };
        let out = prepare_photo(&tall, &pad).unwrap();
        assert_eq!((out.width, out.height), (800, 1000));

        let wide = png(1000, 200); // 5:1
        let out = prepare_photo(&wide, &crop).unwrap();
        assert_eq!((out.width, out.height), (382, 200));
    }

    #[test]
    fn exif_orientation_is_applied() {
        // A 60×40 JPEG carrying EXIF orientation 6 (rotate 90° clockwise) must come out 40×60.
        let img = RgbImage::from_pixel(60, 40, image::Rgb([200, 10, 10]));
        let mut jpeg = Vec::new();
        let mut encoder = JpegEncoder::new_with_quality(&mut jpeg, 90);
        let exif: Vec<u8> = [
            b"MM\0\x2a\0\0\0\x08".as_slice(), // TIFF header, big endian, IFD at 8
            &[0, 1],                          // one entry
            &[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0], // Orientation SHORT 6
            &[0, 0, 0, 0],                    // no next IFD
        ]
        .concat();
        encoder.set_exif_metadata(exif).unwrap();
        encoder.encode_image(&img).unwrap();
        let opts = PhotoOptions {
            fit: AspectFit::Crop,
            min_width: 1,
            ..Default::default()
        };
        let out = prepare_photo(&jpeg, &opts).unwrap();
        assert_eq!(
            (out.width, out.height),
            (40, 50),
            "rotated to portrait, then cropped to 4:5"
        );
    }

    #[test]
    fn truncated_jpegs_are_refused_even_though_decoders_accept_them() {
        let img = RgbImage::from_pixel(400, 400, image::Rgb([1, 2, 3]));
        let mut jpeg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode_image(&img)
            .unwrap();
        assert!(prepare_photo(&jpeg, &PhotoOptions::default()).is_ok());
        for cut in [jpeg.len() - 2, jpeg.len() * 2 / 3, jpeg.len() / 3] {
            let err = prepare_photo(&jpeg[..cut], &PhotoOptions::default()).unwrap_err();
            assert!(
                err.to_string().contains("incomplete"),
                "cut at {cut}: {err}"
            );
        }
    }

    #[test]
    fn truncated_and_bogus_images_are_refused() {
        let full = png(500, 500);
        assert!(matches!(
            prepare_photo(&full[..full.len() / 2], &PhotoOptions::default()),
            Err(MediaError::BadImage(_))
        ));
        assert!(matches!(
            prepare_photo(b"not an image at all", &PhotoOptions::default()),
            Err(MediaError::BadImage(_))
        ));
    }

    #[test]
    fn decompression_bombs_are_refused_before_decoding() {
        // A valid PNG header claiming 100,000 × 100,000 pixels, with almost no data.
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        png.extend_from_slice(&13u32.to_be_bytes());
        png.extend_from_slice(&ihdr);
        png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        png.extend_from_slice(&0u32.to_be_bytes());
        png.extend_from_slice(b"IEND");
        png.extend_from_slice(&crc32(b"IEND").to_be_bytes());
        let err = prepare_photo(&png, &PhotoOptions::default()).unwrap_err();
        assert!(matches!(err, MediaError::TooLarge { .. }), "{err}");
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
