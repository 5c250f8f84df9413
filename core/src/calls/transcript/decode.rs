//! Stored recordings back to samples: WAV (16-bit PCM, any channel count) with Caly's own
//! reader, MP3 (Exotel's default) with symphonia. Each channel comes back on its own.

use crate::integrations::speech::SpeechError;
use crate::integrations::speech::audio::{Wav, read_wav};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// Decodes a recording by its content type (or, failing that, its first bytes).
pub fn decode(bytes: &[u8], content_type: &str) -> Result<Wav, SpeechError> {
    let is_wav = content_type.contains("wav") || bytes.starts_with(b"RIFF");
    if is_wav {
        read_wav(bytes)
    } else {
        decode_mp3(bytes)
    }
}

fn unreadable(what: impl std::fmt::Display) -> SpeechError {
    SpeechError::Unreadable(format!("not a readable MP3 recording: {what}"))
}

fn decode_mp3(bytes: &[u8]) -> Result<Wav, SpeechError> {
    let source = MediaSourceStream::new(
        Box::new(std::io::Cursor::new(bytes.to_vec())),
        Default::default(),
    );
    let mut hint = Hint::new();
    hint.with_extension("mp3");
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            source,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(unreadable)?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| unreadable("no audio track"))?;
    let track_id = track.id;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(unreadable)?;
    let mut channels: Vec<Vec<i16>> = Vec::new();
    let mut rate = track.codec_params.sample_rate.unwrap_or(8000);
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(Error::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(Error::ResetRequired) => break,
            Err(e) => return Err(unreadable(e)),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            // A damaged frame is skipped, as players do.
            Err(Error::DecodeError(_)) => continue,
            Err(e) => return Err(unreadable(e)),
        };
        let spec = *decoded.spec();
        rate = spec.rate;
        let count = spec.channels.count().max(1);
        if channels.len() != count {
            channels.resize_with(count, Vec::new);
        }
        let mut buffer = SampleBuffer::<i16>::new(decoded.capacity() as u64, spec);
        buffer.copy_interleaved_ref(decoded);
        for (i, sample) in buffer.samples().iter().enumerate() {
            channels[i % count].push(*sample);
        }
    }
    if channels.is_empty() {
        return Err(unreadable("no audio frames"));
    }
    Ok(Wav { channels, rate })
}

#[cfg(test)]
mod tests {
    use super::decode;
    use crate::integrations::speech::audio::stereo_wav;

    #[test]
    fn stereo_wav_keeps_its_channels_apart() {
        let bytes = stereo_wav(&[100, 200, 300], &[-1, -2], 8000);
        let wav = decode(&bytes, "audio/wav").unwrap();
        assert_eq!(wav.rate, 8000);
        assert_eq!(wav.channels, vec![vec![100, 200, 300], vec![-1, -2, 0]]);
    }

    #[test]
    fn bytes_that_are_no_audio_are_refused() {
        let err = decode(b"ID3\x03\x00fake-mp3-recording-bytes", "audio/mpeg").unwrap_err();
        assert!(err.to_string().contains("MP3"), "{err}");
    }
}
