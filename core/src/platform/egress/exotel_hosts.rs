//! Exotel's API hosts by region (`CALY_EXOTEL_API_HOSTS=in=api.in.exotel.com,sg=api.exotel.com`).
//! A tenant names its region (or the host itself); Caly only ever calls a host from this map,
//! so a tenant's setting cannot send Caly, with the tenant's credentials, anywhere else. Tests
//! point both regions at loopback servers (`in=http://127.0.0.1:4321`).

use super::{AllowList, EgressError};

/// Exotel's default API hosts: India (Mumbai) and Singapore.
pub const DEFAULT_EXOTEL_API_HOSTS: &str = "in=api.in.exotel.com,sg=api.exotel.com";

/// Region → API base URL.
#[derive(Debug, Clone)]
pub struct ExotelHosts {
    regions: Vec<(String, url::Url)>,
}

impl ExotelHosts {
    /// Parses `region=host` pairs; a value may be a host (https) or a base URL.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut regions = Vec::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (region, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("'{pair}' is not region=host"))?;
            let value = value.trim().trim_end_matches('/');
            let base = if value.contains("://") {
                value.to_string()
            } else {
                format!("https://{value}")
            };
            let url = url::Url::parse(&base).map_err(|e| format!("'{value}': {e}"))?;
            url.host_str()
                .ok_or_else(|| format!("'{value}' has no host"))?;
            regions.push((region.trim().to_ascii_lowercase(), url));
        }
        if regions.is_empty() {
            return Err("no Exotel API host is configured".into());
        }
        Ok(ExotelHosts { regions })
    }

    /// The API base for a tenant's setting: a region name (`in`), or one of the hosts itself
    /// (`api.in.exotel.com`, as older tenants store it).
    pub fn base_for(&self, setting: &str) -> Result<String, EgressError> {
        let wanted = setting.trim().trim_end_matches('/').to_ascii_lowercase();
        self.regions
            .iter()
            .find(|(region, url)| {
                *region == wanted
                    || url.host_str() == Some(wanted.as_str())
                    || url.as_str().trim_end_matches('/') == wanted
            })
            .map(|(_, url)| url.as_str().trim_end_matches('/').to_string())
            .ok_or(EgressError::NotExotelHost(setting.trim().to_string()))
    }

    /// The region names, in the configured order.
    pub fn regions(&self) -> Vec<String> {
        self.regions
            .iter()
            .map(|(region, _)| region.clone())
            .collect()
    }

    /// The region a setting (a region name or a host) stands for.
    pub fn region_of(&self, setting: &str) -> Option<String> {
        let base = self.base_for(setting).ok()?;
        self.regions
            .iter()
            .find(|(_, url)| url.as_str().trim_end_matches('/') == base)
            .map(|(region, _)| region.clone())
    }

    /// The host of a region, as shown to people (`api.in.exotel.com`).
    pub fn host_of(&self, region: &str) -> Option<String> {
        self.regions
            .iter()
            .find(|(name, _)| name == region)
            .and_then(|(_, url)| {
                url.host_str().map(|h| match url.port() {
                    Some(port) => format!("{h}:{port}"),
                    None => h.to_string(),
                })
            })
    }

    /// True when `setting` names one of the hosts.
    pub fn knows(&self, setting: &str) -> bool {
        self.base_for(setting).is_ok()
    }

    /// The hosts, as an allow-list for the egress check.
    pub fn allow_list(&self) -> AllowList {
        self.regions
            .iter()
            .filter_map(|(_, url)| url.host_str())
            .fold(
                AllowList::parse("", "CALY_EXOTEL_API_HOSTS"),
                |list, host| list.with_host(host),
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_and_hosts_resolve_and_others_are_refused() {
        let hosts = ExotelHosts::parse(DEFAULT_EXOTEL_API_HOSTS).unwrap();
        assert_eq!(hosts.base_for("in").unwrap(), "https://api.in.exotel.com");
        assert_eq!(
            hosts.base_for("api.exotel.com").unwrap(),
            "https://api.exotel.com"
        );
        assert_eq!(
            hosts.base_for("evil.example"),
            Err(EgressError::NotExotelHost("evil.example".into()))
        );
        let local =
            ExotelHosts::parse("in=http://127.0.0.1:4321/,sg=http://127.0.0.1:4322").unwrap();
        assert_eq!(local.base_for("in").unwrap(), "http://127.0.0.1:4321");
        assert!(ExotelHosts::parse("api.in.exotel.com").is_err());
        assert!(ExotelHosts::parse("").is_err());
    }
}
