//! Turning an uploaded photo into the JPEG Instagram's feed accepts.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage, Rgba, RgbaImage};

use crate::MediaError;

/// Instagram's feed accepts 4:5 (portrait) to 1.91:1 (landscape).
pub const MIN_ASPECT: f64 = 4.0 / 5.0;
pub const MAX_ASPECT: f64 = 1.91;
/// Stories go down to 9:16 (instagrapi's `for_story` range), at most 1080×1920.
pub const STORY_MIN_ASPECT: f64 = 9.0 / 16.0;

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

/// How many bytes of decoded image each pixel of the budget stands for: an 8-bit RGBA pixel.
/// An image whose decoded buffer is larger than `max_pixels × 4` bytes (a 16-bit image of
/// more than half the pixel budget, say) is refused too.
pub const BUDGET_BYTES_PER_PIXEL: u64 = 4;

/// The default `max_pixels`: 50 megapixels (a 8192×6144 photo, more than any phone's).
pub const DEFAULT_MAX_PIXELS: u64 = 50_000_000;

#[derive(Debug, Clone, Copy)]
pub struct PhotoOptions {
    pub fit: AspectFit,
    /// The narrowest aspect ratio kept (width / height): 4:5 in the feed, 9:16 in stories.
    pub min_aspect: f64,
    pub max_width: u32,
    pub min_width: u32,
    pub jpeg_quality: u8,
    /// Refuse images claiming more pixels per side than this (decompression bombs).
    pub max_dimension: u32,
    /// Refuse images of more pixels than this, from the header, before decoding.
    pub max_pixels: u64,
    /// Refuse images whose decoded buffer would be larger than this many bytes, from the
    /// header, before decoding (a 16-bit RGB pixel takes 6 bytes, an 8-bit one 3).
    pub max_decoded_bytes: u64,
}

impl PhotoOptions {
    /// Options whose pixel budget is `max_pixels` and whose decoded-buffer budget is
    /// `max_pixels ×` [`BUDGET_BYTES_PER_PIXEL`] bytes.
    pub fn with_pixel_budget(mut self, max_pixels: u64) -> Self {
        self.max_pixels = max_pixels;
        self.max_decoded_bytes = max_pixels.saturating_mul(BUDGET_BYTES_PER_PIXEL);
        self
    }

    /// About the most memory one call of [`prepare_photo`] holds at once, in bytes (besides
    /// the file itself), for any image the budget lets through. Either the decoded buffer
    /// (at most `max_decoded_bytes`) and its 8-bit RGB(A) copy — 8 bytes per pixel of the
    /// budget at worst, for a 16-bit grey-and-alpha image — or, later, the RGB image and
    /// the resampler's buffer (16 bytes per pixel of the source's width × the output's
    /// height). Documented in DEPLOY.md.
    pub fn peak_bytes(&self) -> u64 {
        let p = self.max_pixels;
        let copies = self.max_decoded_bytes.saturating_add(p.saturating_mul(4));
        // After the aspect fit the picture is at most 1 / min_aspect times taller than wide.
        let tallest = ((p as f64) / self.min_aspect.max(0.1)).sqrt() as u64;
        let resize = p
            .saturating_mul(3)
            .saturating_add(16 * u64::from(self.max_width) * tallest);
        copies.max(resize)
    }
}

impl Default for PhotoOptions {
    fn default() -> Self {
        Self {
            fit: AspectFit::Reject,
            min_aspect: MIN_ASPECT,
            max_width: 1440,
            min_width: 320,
            jpeg_quality: 90,
            max_dimension: 12_000,
            max_pixels: 0,
            max_decoded_bytes: 0,
        }
        .with_pixel_budget(DEFAULT_MAX_PIXELS)
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
    let reader = || {
        ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| MediaError::BadImage(e.to_string()))
    };
    // The size, from the header alone, so that a refusal can say it.
    let (w, h) = match png_header_size(bytes) {
        Some(size) => size,
        None => {
            let mut header = reader()?;
            header.no_limits();
            header
                .into_dimensions()
                .map_err(|e| MediaError::BadImage(e.to_string()))?
        }
    };
    check_size(w, h, options)?;

    let mut reader = reader()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(options.max_dimension);
    limits.max_image_height = Some(options.max_dimension);
    // Also bounds what the decoders allocate for themselves.
    limits.max_alloc = Some(options.max_decoded_bytes);
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| bad_image(e, w, h, options))?;
    let (w, h) = decoder.dimensions();
    check_size(w, h, options)?;
    let bytes_needed = decoder.total_bytes();
    if bytes_needed > options.max_decoded_bytes {
        return Err(MediaError::TooMuchMemory {
            width: w,
            height: h,
            bits_per_pixel: decoder.color_type().bits_per_pixel(),
            bytes: bytes_needed,
            max_bytes: options.max_decoded_bytes,
        });
    }
    let orientation = decoder
        .orientation()
        .map_err(|e| MediaError::BadImage(e.to_string()))?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| bad_image(e, w, h, options))?;
    image.apply_orientation(orientation);

    // The decoded image is consumed here, so at most it and its 8-bit copy live at once.
    let rgb = flatten_on_white(image);
    let rgb = fit_aspect(rgb, options)?;
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

/// A PNG's size from its IHDR, which must come first (the PNG decoder wants to see image
/// data before it answers, and a bomb need not have any).
fn png_header_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    let word = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    Some((word(16)?, word(20)?))
}

/// Sides and pixel count against the limits, before any pixel is decoded.
fn check_size(width: u32, height: u32, options: &PhotoOptions) -> Result<(), MediaError> {
    if width > options.max_dimension || height > options.max_dimension {
        return Err(MediaError::TooLarge {
            width,
            height,
            max: options.max_dimension,
        });
    }
    if u64::from(width) * u64::from(height) > options.max_pixels {
        return Err(MediaError::TooManyPixels {
            width,
            height,
            max_pixels: options.max_pixels,
        });
    }
    Ok(())
}

/// A decoder's error; one about limits says the image's real size.
fn bad_image(e: image::ImageError, width: u32, height: u32, options: &PhotoOptions) -> MediaError {
    match e {
        image::ImageError::Limits(_) => {
            if let Err(size) = check_size(width, height, options) {
                return size;
            }
            MediaError::BadImage(format!(
                "decoding the {width}×{height} image needs more than the {} MB icf allows for \
                 one image",
                options.max_decoded_bytes / 1_000_000
            ))
        }
        other => MediaError::BadImage(other.to_string()),
    }
}

/// Transparent pixels become white, as Instagram would show them.
fn flatten_on_white(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba: RgbaImage = image.into_rgba8();
    let mut out = RgbImage::new(rgba.width(), rgba.height());
    for (x, y, Rgba([r, g, b, a])) in rgba.enumerate_pixels().map(|(x, y, p)| (x, y, *p)) {
        let a = u16::from(a);
        let blend = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
        out.put_pixel(x, y, image::Rgb([blend(r), blend(g), blend(b)]));
    }
    out
}

fn fit_aspect(img: RgbImage, options: &PhotoOptions) -> Result<RgbImage, MediaError> {
    let (w, h) = img.dimensions();
    let ratio = f64::from(w) / f64::from(h);
    let min_aspect = options.min_aspect;
    // A hair of tolerance: 1080×1350 is exactly 0.8 but float math may say 0.7999…
    if (min_aspect - 1e-3..=MAX_ASPECT + 1e-3).contains(&ratio) {
        return Ok(img);
    }
    let target = if ratio < min_aspect {
        min_aspect
    } else {
        MAX_ASPECT
    };
    match options.fit {
        AspectFit::Reject => Err(if min_aspect < MIN_ASPECT {
            MediaError::AspectRatio {
                ratio,
                what: "stories",
                range: "9:16 to 1.91:1",
            }
        } else {
            MediaError::AspectRatio {
                ratio,
                what: "feed photos",
                range: "4:5 to 1.91:1",
            }
        }),
        AspectFit::Crop => {
            let (nw, nh) = if ratio < min_aspect {
                (w, ((f64::from(w) / target).round() as u32).clamp(1, h))
            } else {
                (((f64::from(h) * target).round() as u32).clamp(1, w), h)
            };
            let (x, y) = ((w - nw) / 2, (h - nh) / 2);
            Ok(image::imageops::crop_imm(&img, x, y, nw, nh).to_image())
        }
        AspectFit::Pad => {
            // Padding adds blank pixels (up to 2.4 times as many); a canvas wider than the
            // JPEG will be is shrunk first rather than built full size and shrunk after.
            let padded_width = if ratio < min_aspect {
                (f64::from(h) * target).round() as u32
            } else {
                w
            };
            let img = if padded_width > options.max_width {
                let scale = f64::from(options.max_width) / f64::from(padded_width);
                let nw = ((f64::from(w) * scale).round() as u32).max(1);
                let nh = ((f64::from(h) * scale).round() as u32).max(1);
                image::imageops::resize(&img, nw, nh, FilterType::CatmullRom)
            } else {
                img
            };
            let (w, h) = img.dimensions();
            let (nw, nh) = if ratio < min_aspect {
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
        // Its real size and the limit, never "0×0".
        let message = err.to_string();
        assert!(message.contains("100000×100000"), "{message}");
        assert!(message.contains("12000×12000"), "{message}");

        // A JPEG whose frame header claims 60000×60000.
        let mut jpeg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode_image(&RgbImage::new(16, 16))
            .unwrap();
        let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        jpeg[sof + 5..sof + 7].copy_from_slice(&60_000u16.to_be_bytes());
        jpeg[sof + 7..sof + 9].copy_from_slice(&60_000u16.to_be_bytes());
        let err = prepare_photo(&jpeg, &PhotoOptions::default()).unwrap_err();
        assert!(matches!(err, MediaError::TooLarge { .. }), "{err}");
        assert!(err.to_string().contains("60000×60000"), "{err}");
    }

    fn png16(w: u32, h: u32) -> Vec<u8> {
        let img = image::ImageBuffer::<image::Rgb<u16>, _>::from_pixel(w, h, image::Rgb([0; 3]));
        let mut out = Vec::new();
        DynamicImage::ImageRgb16(img)
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn the_pixel_budget_is_checked_from_the_header() {
        let small = PhotoOptions {
            min_width: 1,
            ..PhotoOptions::default()
        }
        .with_pixel_budget(1_000);
        assert_eq!(small.max_decoded_bytes, 4_000);
        // 40×30 = 1,200 pixels: over the budget, whatever the bit depth.
        let err = prepare_photo(&png(40, 30), &small).unwrap_err();
        assert!(matches!(err, MediaError::TooManyPixels { .. }), "{err}");
        assert!(err.to_string().contains("40×30 pixels"), "{err}");
        // 30×25 = 750 pixels: 8-bit RGB (2,250 bytes) fits, 16-bit RGB (4,500 bytes) does not.
        assert!(prepare_photo(&png(30, 25), &small).is_ok());
        let err = prepare_photo(&png16(30, 25), &small).unwrap_err();
        let MediaError::TooMuchMemory {
            bits_per_pixel,
            bytes,
            max_bytes,
            ..
        } = err
        else {
            panic!("{err}");
        };
        assert_eq!((bits_per_pixel, bytes, max_bytes), (48, 4_500, 4_000));
        assert!(err.to_string().contains("30×25 pixels at 48 bits"), "{err}");
    }

    #[test]
    fn the_default_budget_bounds_one_decode() {
        let options = PhotoOptions::default();
        assert_eq!(options.max_pixels, 50_000_000);
        assert_eq!(options.max_decoded_bytes, 200_000_000);
        // 200 MB decoded + a 200 MB 8-bit RGBA copy; the resampler's phase is smaller.
        assert_eq!(options.peak_bytes(), 400_000_000);
    }

    #[test]
    fn padding_never_builds_a_canvas_wider_than_the_output() {
        let pad = PhotoOptions {
            fit: AspectFit::Pad,
            ..Default::default()
        };
        // 300×3000 would pad to 2400×3000 (7.2 Mpx) before shrinking; it is shrunk first.
        let out = prepare_photo(&png(300, 3000), &pad).unwrap();
        assert_eq!((out.width, out.height), (1440, 1800));
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
