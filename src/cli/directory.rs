//! The site, store and user commands: on the database while no server runs, through the running
//! server's admin API while one does, printing the same either way.

use serde_json::{json, Value};

use super::remote::{held_by_a_server, segment, Remote};
use crate::{open_storage, read_password, SiteCommand, StoreCommand, UserCommand};
use satsync::admin::directory::{self, NewStore};
use satsync::config::Config;
use satsync::domain::directory::Site;
use satsync::domain::ids::SiteId;
use satsync::store::Database;
use satsync::sync::ClientKind;

/// Where a command runs: the database itself, or the server that holds it.
enum Target {
    Offline(Database),
    Online(Remote),
}

fn target(config: &Config) -> anyhow::Result<Target> {
    match open_storage(config) {
        Ok(storage) => Ok(Target::Offline(storage)),
        Err(error) if held_by_a_server(&error) => Ok(Target::Online(Remote::connect(config)?)),
        Err(error) => Err(error),
    }
}

pub fn site(config: &Config, primary: SiteId, command: SiteCommand) -> anyhow::Result<()> {
    let target = target(config)?;
    match (command, &target) {
        (
            SiteCommand::Add {
                name,
                password_env,
                id,
                client,
            },
            _,
        ) => {
            let password = read_password(password_env.as_deref(), &format!("password for site {name}: "))?;
            let id = match &target {
                Target::Offline(storage) => {
                    let site = directory::add_site(storage, primary, &name, &password, id)?;
                    if let Some(client) = client {
                        directory::declare_client(storage, primary, &name, client.into())?;
                    }
                    site.id.0.into()
                }
                Target::Online(remote) => {
                    let client = client.map(|c| ClientKind::from(c).name());
                    let body = json!({ "name": name, "password": password, "id": id, "client": client });
                    remote.post("/sites", Some(body))?["id"].clone()
                }
            };
            println!("added site {id} ({name})");
        }
        (SiteCommand::SetClient { name, client }, _) => {
            let client = ClientKind::from(client);
            match &target {
                Target::Offline(storage) => drop(directory::declare_client(storage, primary, &name, client)?),
                Target::Online(remote) => drop(remote.put(
                    &format!("/sites/{}/client", segment(&name)),
                    json!({ "client": client.name() }),
                )?),
            }
            println!("{name} runs {}", client.name());
        }
        (SiteCommand::List, Target::Offline(storage)) => {
            for site in directory::list_sites(storage, primary)? {
                println!("{}", site_line(&offline_summary(storage, &site)?));
            }
        }
        (SiteCommand::List, Target::Online(remote)) => {
            for site in remote.get("/sites")?["sites"].as_array().into_iter().flatten() {
                println!("{}", site_line(site));
            }
        }
        (SiteCommand::Show { name }, Target::Offline(storage)) => {
            let site = directory::list_sites(storage, primary)?
                .into_iter()
                .find(|site| site.name == name && site.id != primary)
                .ok_or_else(|| anyhow::anyhow!("no site named {name}"))?;
            println!("{}", site_line(&offline_summary(storage, &site)?));
        }
        (SiteCommand::Show { name }, Target::Online(remote)) => {
            println!("{}", site_line(&remote.get(&format!("/sites/{}", segment(&name)))?));
        }
        (SiteCommand::Remove { name }, _) => {
            match &target {
                Target::Offline(storage) => directory::remove_site(storage, primary, &name)?,
                Target::Online(remote) => drop(remote.delete(&format!("/sites/{}", segment(&name)))?),
            }
            println!("removed site {name}; its records stay on the primary");
        }
        (SiteCommand::Disable { name }, _) => {
            set_disabled(&target, primary, &name, true)?;
            println!("{name} disabled: its satellite is refused until it is enabled");
        }
        (SiteCommand::Enable { name }, _) => {
            set_disabled(&target, primary, &name, false)?;
            println!("{name} enabled");
        }
        (SiteCommand::ResetHardware { name }, _) => {
            match &target {
                Target::Offline(storage) => drop(directory::reset_hardware(storage, primary, &name)?),
                Target::Online(remote) => {
                    drop(remote.post(&format!("/sites/{}/reset-hardware", segment(&name)), None)?)
                }
            }
            println!("hardware binding of {name} reset");
        }
        (SiteCommand::SetPassword { name, password_env }, _) => {
            let password = read_password(password_env.as_deref(), &format!("new password for site {name}: "))?;
            match &target {
                Target::Offline(storage) => drop(directory::set_password(storage, primary, &name, &password)?),
                Target::Online(remote) => drop(remote.put(
                    &format!("/sites/{}/password", segment(&name)),
                    json!({ "password": password }),
                )?),
            }
            println!("password of {name} changed");
        }
    }
    Ok(())
}

fn set_disabled(target: &Target, primary: SiteId, name: &str, disabled: bool) -> anyhow::Result<()> {
    match target {
        Target::Offline(storage) => drop(directory::set_disabled(storage, primary, name, disabled)?),
        Target::Online(remote) => {
            let act = if disabled { "disable" } else { "enable" };
            drop(remote.post(&format!("/sites/{}/{act}", segment(name)), None)?)
        }
    }
    Ok(())
}

/// A site as the admin API shows it, from the database (what `list` and `show` print of it).
fn offline_summary(storage: &Database, site: &Site) -> anyhow::Result<Value> {
    Ok(json!({
        "id": site.id.0,
        "name": site.name,
        "stores": site.stores,
        "hardware_id": site.hardware_id,
        "client": directory::site_client(storage, site.id)?.name(),
        "disabled": site.disabled,
    }))
}

/// One site on one line, from its admin API summary.
fn site_line(site: &Value) -> String {
    let stores: Vec<&str> = site["stores"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let state = if site["disabled"].as_bool() == Some(true) {
        "\tdisabled"
    } else {
        ""
    };
    format!(
        "{}\t{}\tstores: {}\thardware: {}\tclient: {}{state}",
        site["id"],
        site["name"].as_str().unwrap_or_default(),
        stores.join(","),
        site["hardware_id"].as_str().unwrap_or("-"),
        site["client"].as_str().unwrap_or_default(),
    )
}

pub fn store(config: &Config, primary: SiteId, command: StoreCommand) -> anyhow::Result<()> {
    let StoreCommand::Add {
        site,
        name,
        code,
        id,
        name_id,
        supplying_store,
    } = command;
    let (id, site_id) = match target(config)? {
        Target::Offline(storage) => {
            let new = NewStore {
                id: id.as_deref(),
                name: &name,
                code: &code,
                name_id: name_id.as_deref(),
                site: &site,
                supplying_store_id: &supplying_store,
            };
            let store = directory::add_store(&storage, primary, new)?;
            (store.id, store.site.0)
        }
        Target::Online(remote) => {
            let body = json!({ "site": site, "name": name, "code": code, "id": id, "name_id": name_id,
                "supplying_store_id": supplying_store });
            let store = remote.post("/stores", Some(body))?;
            let site = store["site"].as_u64().unwrap_or_default() as u32;
            (store["id"].as_str().unwrap_or_default().to_string(), site)
        }
    };
    println!("added store {id} ({name}) to site {site_id}");
    Ok(())
}

pub fn user(config: &Config, primary: SiteId, command: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Add {
        name,
        password_env,
        stores,
        admin,
        permissions,
    } = command;
    let password = read_password(password_env.as_deref(), &format!("password for user {name}: "))?;
    let id = match target(config)? {
        Target::Offline(storage) => {
            directory::add_user(&storage, primary, &name, &password, &stores, admin, &permissions)?.id
        }
        Target::Online(remote) => {
            let body = json!({ "password": password, "stores": stores, "admin": admin, "permissions": permissions });
            let user = remote.put(&format!("/users/{}", segment(&name)), body)?;
            user["id"].as_str().unwrap_or_default().to_string()
        }
    };
    println!("added user {name} ({id})");
    Ok(())
}
